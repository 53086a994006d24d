import type { Context } from 'hono';
import type { ApiApp } from '../http/openapi.js';
import { isResultName } from '@tus-edge/processors';
import { findRecord } from '../catalogue/records.js';
import { tusError } from '../errors.js';
import type { AuthDeps } from './deps.js';
import { errorResponse } from '../http/respond.js';
import type { UploadTokenLimits } from './identity.js';
import { readJsonObject } from '../http/json-body.js';

const MEDIA_PATTERN = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,126})$/;


function positiveInt(body: Record<string, unknown>, key: string, max: number): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > max) throw tusError('INVALID_REQUEST_BODY', `${key} must be an integer from 1 to ${max}`);
  return v;
}

/** Origin of the request, from X-Forwarded-Proto/Host only with TRUST_PROXY (as tus Location URLs). */
function originOf(c: Context, trustProxy: boolean): string {
  const url = new URL(c.req.url);
  const proto = (trustProxy && c.req.header('x-forwarded-proto')?.split(',')[0].trim()) || url.protocol.slice(0, -1);
  const host = (trustProxy && c.req.header('x-forwarded-host')?.split(',')[0].trim()) || url.host;
  return `${proto}://${host}`;
}

/**
 * The security API:
 * - `POST /api/upload-tokens` `{ maxSize?, types?, maxUploads?, expiresIn? }` (a user token) → 201
 *   `{ token, expiresAt, limits }`: a capability a browser sends as `Authorization: Bearer`;
 * - `POST /api/uploads/:id/signed-url` `{ result?, expiresIn? }` → `{ url, expiresAt }` for the bytes
 *   of a finished upload, or for one of its results, downloadable without a token until it expires;
 * - `GET /api/usage` → `{ owner, tenant, usage: { bytes, uploads }, limits, tracked }` (tracked: a quota is set).
 * Ownership of `:id` was checked by the auth middleware.
 */
export function mountSecurityApi(app: ApiApp, deps: AuthDeps): void {
  const { security, config } = deps;
  const fail = (err: unknown) => errorResponse(err, deps.metrics, deps.logger);

  app.post('/api/upload-tokens', async (c) => {
    try {
      const identity = c.get('identity');
      if (identity?.kind !== 'user') throw tusError('TOKEN_SCOPE', 'upload tokens are minted with a user token (AUTH_MODE=jwt)');
      const body = await readJsonObject(c, security.config.requestTimeoutMs);
      const limits: UploadTokenLimits = {};
      limits.maxSize = positiveInt(body, 'maxSize', config.maxSize);
      limits.maxUploads = positiveInt(body, 'maxUploads', 1_000_000);
      if (body.types !== undefined) {
        if (!Array.isArray(body.types) || body.types.length > 64 || !body.types.every((t) => typeof t === 'string' && MEDIA_PATTERN.test(t.toLowerCase()))) {
          throw tusError('INVALID_REQUEST_BODY', 'types must be a list of media types such as image/png or video/*');
        }
        limits.types = (body.types as string[]).map((t) => t.toLowerCase());
      }
      for (const k of Object.keys(limits) as Array<keyof UploadTokenLimits>) if (limits[k] === undefined) delete limits[k];
      const maxTtlS = Math.floor(security.config.uploadTokenTtlMs / 1000);
      const ttlS = positiveInt(body, 'expiresIn', maxTtlS) ?? maxTtlS;
      const minted = await security.parts.uploadTokens.mint(identity.owner, identity.tenant, limits, ttlS * 1000);
      return c.json({ token: minted.token, expiresAt: minted.expiresAt.toISOString(), limits }, 201);
    } catch (err) {
      return fail(err);
    }
  });

  app.post('/api/uploads/:id/signed-url', async (c) => {
    try {
      const identity = c.get('identity');
      if (identity?.kind !== 'user' && identity?.kind !== 'anonymous') throw tusError('TOKEN_SCOPE', 'signed URLs are minted with a user token');
      if (!security.parts.signer.enabled) throw tusError('SIGNING_NOT_CONFIGURED');
      const id = c.req.param('id');
      const body = await readJsonObject(c, security.config.requestTimeoutMs);
      const record = await findRecord(deps.records, deps.catalogue, id);
      if (!record) throw tusError('UPLOAD_NOT_FOUND');
      if (record.expiredAt) throw tusError('UPLOAD_GONE');
      let path = `${config.tusPath}/${id}`;
      if (body.result !== undefined) {
        if (typeof body.result !== 'string' || !isResultName(body.result)) throw tusError('INVALID_REQUEST_BODY', 'result must be a result name');
        path = `/api/uploads/${id}/results/${body.result}`;
      } else if (!record.completedAt) {
        throw tusError('UPLOAD_INCOMPLETE');
      }
      const maxTtlS = Math.floor(security.config.signedUrlTtlMs / 1000);
      const ttlS = positiveInt(body, 'expiresIn', maxTtlS) ?? maxTtlS;
      const expiresAt = new Date(Math.floor((deps.now().getTime() + ttlS * 1000) / 1000) * 1000);
      const url = `${originOf(c, config.trustProxy)}${security.parts.signer.sign(path, expiresAt)}`;
      return c.json({ url, expiresAt: expiresAt.toISOString() });
    } catch (err) {
      return fail(err);
    }
  });

  app.get('/api/usage', async (c) => {
    try {
      const identity = c.get('identity');
      // What the catalogue holds for the caller (files, bytes stored once, bytes deduplicated, by media
      // type and storage class); with auth off, for the one anonymous owner.
      if (identity?.kind === 'anonymous') {
        const stored = await deps.catalogue.usage({ tenant: '', owner: '' });
        return c.json({ owner: null, tenant: null, usage: null, limits: null, tracked: false, ...stored });
      }
      if (identity?.kind !== 'user') throw tusError('TOKEN_SCOPE', 'usage is per owner: call it with a user token (AUTH_MODE=jwt)');
      const [{ usage, limits, tracked }, stored] = await Promise.all([
        security.parts.quotas.of(identity.owner, identity.tenant),
        deps.catalogue.usage({ tenant: identity.tenant ?? '', owner: identity.owner }),
      ]);
      return c.json({ owner: identity.owner, tenant: identity.tenant ?? null, usage, limits, tracked, ...stored });
    } catch (err) {
      return fail(err);
    }
  });
}
