import type { Context } from 'hono';
import type { ApiApp } from '../http/openapi.js';
import { tusError } from '../errors.js';
import type { AppContext } from '../context.js';
import { handleDelete } from './handlers/delete.js';
import { handleGet } from './handlers/get.js';
import type { DownloadRequest } from '../downloads/serve.js';
import { handleHead } from './handlers/head.js';
import { handleOptions } from './handlers/options.js';
import { handlePatch } from './handlers/patch.js';
import { handlePost } from './handlers/post.js';
import { TUS_VERSION } from './protocol.js';
import { describeTus } from './describe.js';
import { toTusRequest } from './request.js';
import { errorResponse } from '../http/respond.js';
import { Uploads } from '../uploads/uploads.js';

const SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Mounts the tus endpoint at `config.tusPath` (collection) and `config.tusPath/:id` (uploads). */
export function mountTus(app: ApiApp, deps: AppContext, uploads = new Uploads(deps)): Uploads {
  const base = deps.config.tusPath;
  const dispatch = async (c: Context, rawId: string | undefined) => {
    const req = toTusRequest(c, rawId);
    try {
      // "The Tus-Resumable header MUST be included in every request and response except for OPTIONS
      // requests." "If the Client requests a version which the Server does not support, it MUST respond
      // with the 412 Precondition Failed status and MUST include the Tus-Version header."
      if (req.method !== 'OPTIONS' && req.method !== 'GET' && c.req.header('tus-resumable') !== TUS_VERSION) {
        throw tusError('TUS_RESUMABLE_UNSUPPORTED', undefined, { 'Tus-Version': TUS_VERSION });
      }
      if (req.method === 'OPTIONS') return handleOptions(deps);
      if (rawId === undefined) {
        if (req.method === 'POST') return await handlePost(deps, uploads, req);
        throw tusError('METHOD_NOT_ALLOWED', req.method, { Allow: 'POST, OPTIONS' });
      }
      if (!SAFE_ID.test(rawId)) throw tusError('UPLOAD_NOT_FOUND');
      switch (req.method) {
        case 'HEAD':
          return await handleHead(uploads, rawId, req.signal);
        case 'PATCH':
          return await handlePatch(deps, uploads, req, rawId);
        case 'DELETE':
          return await handleDelete(deps, uploads, rawId, req.signal);
        case 'GET':
          return await handleGet(deps, uploads, rawId, downloadRequest(c));
        default:
          throw tusError('METHOD_NOT_ALLOWED', req.method, { Allow: 'HEAD, PATCH, DELETE, GET, OPTIONS' });
      }
    } catch (err) {
      return errorResponse(err, deps.metrics, deps.logger);
    }
  };
  app.all(base, (c) => dispatch(c, undefined));
  app.all(`${base}/`, (c) => dispatch(c, undefined));
  app.all(`${base}/:id{.+}`, (c) => dispatch(c, safeDecode(c.req.param('id'))));
  describeTus(app, base);
  return uploads;
}

/** The headers of a download, and the expiry of the signed URL it came with (if any). */
export function downloadRequest(c: Context): DownloadRequest {
  const signed = c.get('identity')?.kind === 'signed-url' ? c.req.query('expires') : undefined;
  return {
    range: c.req.header('range'),
    ifNoneMatch: c.req.header('if-none-match'),
    ifRange: c.req.header('if-range'),
    signedUntil: signed && /^\d{1,12}$/.test(signed) ? new Date(Number(signed) * 1000) : undefined,
  };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
