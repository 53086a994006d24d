/**
 * Resumable Uploads for HTTP beside tus 1.0, on the same endpoint and uploads. Mounted before the tus
 * routes: a request with `Upload-Draft-Interop-Version` and without `Tus-Resumable` is the draft's;
 * every other request (and a draft GET, which is the same download) goes on to tus. OPTIONS answers
 * of either protocol get the draft's discovery fields.
 */
import type { Context, Next } from 'hono';
import type { ApiApp } from '../http/openapi.js';
import type { AppContext } from '../context.js';
import { TusError, tusError } from '../errors.js';
import { toTusRequest } from '../tus/request.js';
import type { Uploads } from '../uploads/uploads.js';
import { appendToDraft } from './append.js';
import { cancelDraft } from './cancel.js';
import { type DraftCall, limitHeaders } from './common.js';
import { createDraft } from './create.js';
import { interimFor } from './interim.js';
import { retrieveOffset } from './offset.js';
import { draftErrorResponse } from './problem.js';
import { describeIetf } from './describe.js';
import { INTEROP_HEADER, interopOf, LATEST, PARTIAL_UPLOAD_TYPE } from './versions.js';

const SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Whether a request speaks the draft rather than tus. */
export function isDraftRequest(c: Context): boolean {
  return c.req.header(INTEROP_HEADER) !== undefined && c.req.header('tus-resumable') === undefined;
}

/** Mounts the draft on `config.tusPath` and `config.tusPath/:id`, in front of the tus routes. */
export function mountIetf(app: ApiApp, deps: AppContext, uploads: Uploads): void {
  const base = deps.config.tusPath;
  const handle = async (c: Context, next: Next, rawId: string | undefined): Promise<Response | void> => {
    const method = (c.req.header('x-http-method-override') ?? c.req.method).toUpperCase();
    if (method === 'OPTIONS') {
      await next();
      // "the server MUST include the `Accept-Patch` header field in the response. ... The value of
      // the `Accept-Patch` header field MUST include the full `application/partial-upload` media
      // type" and "The `Upload-Limit` header field SHOULD be included in the response to an
      // `OPTIONS` request if limits apply."
      const interop = interopOf(c.req.header(INTEROP_HEADER)) ?? LATEST;
      c.res.headers.set('Accept-Patch', PARTIAL_UPLOAD_TYPE);
      for (const [name, value] of Object.entries(limitHeaders(deps, interop))) c.res.headers.set(name, value);
      return;
    }
    if (!isDraftRequest(c) || method === 'GET') return next();
    const header = c.req.header(INTEROP_HEADER);
    const interop = interopOf(header);
    const req = toTusRequest(c, rawId);
    try {
      if (!interop) throw tusError('DRAFT_VERSION_UNSUPPORTED', JSON.stringify(header));
      const call: DraftCall = { deps, uploads, req, interop, interim: deps.config.protocols.interimResponses ? interimFor(c) : undefined };
      if (rawId === undefined) {
        if (method === 'POST') return await createDraft(call);
        throw tusError('METHOD_NOT_ALLOWED', method, { Allow: 'POST, OPTIONS' });
      }
      if (!SAFE_ID.test(rawId)) throw tusError('UPLOAD_NOT_FOUND');
      switch (method) {
        case 'HEAD':
          return await retrieveOffset(call, rawId);
        case 'PATCH':
          return await appendToDraft(call, rawId);
        case 'DELETE':
          return await cancelDraft(call, rawId);
        default:
          throw tusError('METHOD_NOT_ALLOWED', method, { Allow: 'HEAD, PATCH, DELETE, GET, OPTIONS' });
      }
    } catch (err) {
      // "A server responding with a 413 Content Too Large status code as a result of its upload
      // limits MUST include the Upload-Limit header in this response".
      const extra = interop && err instanceof TusError && err.status === 413 ? limitHeaders(deps, interop) : {};
      return draftErrorResponse(err, interop, deps.metrics, deps.logger, extra);
    }
  };
  app.all(base, (c, next) => handle(c, next, undefined));
  app.all(`${base}/`, (c, next) => handle(c, next, undefined));
  app.all(`${base}/:id{.+}`, (c, next) => handle(c, next, safeDecode(c.req.param('id'))));
  describeIetf(app, base);
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
