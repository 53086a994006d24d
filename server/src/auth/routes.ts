import type { Context } from 'hono';
import { documented, errors, json, jsonBody, route, type ApiApp } from '../http/openapi.js';
import { signedUrlRequest, SignedUrlSchema, UploadIdParams, uploadTokenRequest, UploadTokenSchema, UsageSchema } from './schemas.js';
import { findRecord } from '../catalogue/records.js';
import { tusError } from '../errors.js';
import type { AuthDeps } from './deps.js';
import { errorResponse } from '../http/respond.js';
import type { UploadTokenLimits } from './identity.js';

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
  const tokenTtlS = Math.floor(security.config.uploadTokenTtlMs / 1000);
  const urlTtlS = Math.floor(security.config.signedUrlTtlMs / 1000);
  const TokenRequest = uploadTokenRequest(config.maxSize, tokenTtlS);
  const UrlRequest = signedUrlRequest(urlTtlS);

  const mintToken = route({
    method: 'post', path: '/api/upload-tokens', tags: ['security'], summary: 'Mint an upload token (a capability for a browser)',
    description: 'With a user token (AUTH_MODE=jwt). The token creates, resumes and reads its own uploads within its limits, sent as Authorization: Bearer.',
    request: { body: { content: { 'application/json': { schema: TokenRequest } } } },
    responses: {
      201: json(UploadTokenSchema, 'the token'),
      ...errors('INVALID_REQUEST_BODY', 'TOKEN_SCOPE', 'SIGNING_NOT_CONFIGURED', 'REQUEST_TIMEOUT'),
    },
  });
  documented(app, mintToken, async (c) => {
    try {
      const identity = c.get('identity');
      if (identity?.kind !== 'user') throw tusError('TOKEN_SCOPE', 'upload tokens are minted with a user token (AUTH_MODE=jwt)');
      const body = await jsonBody(c, TokenRequest, security.config.requestTimeoutMs);
      const limits: UploadTokenLimits = {};
      if (body.maxSize) limits.maxSize = body.maxSize;
      if (body.types) limits.types = body.types.map((t) => t.toLowerCase());
      if (body.maxUploads) limits.maxUploads = body.maxUploads;
      const ttlS = body.expiresIn ?? tokenTtlS;
      const minted = await security.parts.uploadTokens.mint(identity.owner, identity.tenant, limits, ttlS * 1000);
      return c.json({ token: minted.token, expiresAt: minted.expiresAt.toISOString(), limits }, 201);
    } catch (err) {
      return fail(err);
    }
  });

  const signUrl = route({
    method: 'post', path: '/api/uploads/{id}/signed-url', tags: ['security'], summary: 'A signed URL for the bytes of a finished upload, or of one of its results',
    description: 'Downloadable without a token until it expires (SIGNING_SECRET). The body may be empty.',
    request: { params: UploadIdParams, body: { required: false, content: { 'application/json': { schema: UrlRequest } } } },
    responses: {
      200: json(SignedUrlSchema, 'the URL'),
      ...errors('INVALID_REQUEST_BODY', 'UPLOAD_NOT_FOUND', 'UPLOAD_GONE', 'UPLOAD_INCOMPLETE', 'TOKEN_SCOPE', 'SIGNING_NOT_CONFIGURED', 'REQUEST_TIMEOUT'),
    },
  });
  documented(app, signUrl, async (c) => {
    try {
      const identity = c.get('identity');
      if (identity?.kind !== 'user' && identity?.kind !== 'anonymous') throw tusError('TOKEN_SCOPE', 'signed URLs are minted with a user token');
      if (!security.parts.signer.enabled) throw tusError('SIGNING_NOT_CONFIGURED');
      const id = c.req.param('id')!;
      const body = await jsonBody(c, UrlRequest, security.config.requestTimeoutMs);
      const record = await findRecord(deps.records, deps.catalogue, id);
      if (!record) throw tusError('UPLOAD_NOT_FOUND');
      if (record.expiredAt) throw tusError('UPLOAD_GONE');
      let path = `${config.tusPath}/${id}`;
      if (body.result !== undefined) path = `/api/uploads/${id}/results/${body.result}`;
      else if (!record.completedAt) throw tusError('UPLOAD_INCOMPLETE');
      const ttlS = body.expiresIn ?? urlTtlS;
      const expiresAt = new Date(Math.floor((deps.now().getTime() + ttlS * 1000) / 1000) * 1000);
      const url = `${originOf(c, config.trustProxy)}${security.parts.signer.sign(path, expiresAt)}`;
      return c.json({ url, expiresAt: expiresAt.toISOString() });
    } catch (err) {
      return fail(err);
    }
  });

  const usage = route({
    method: 'get', path: '/api/usage', tags: ['security'], summary: "The caller's quota counters and what it stores",
    description: 'Files, bytes stored once, bytes deduplicated, by media type and storage class; with auth off for the one anonymous owner (no quota counters).',
    responses: { 200: json(UsageSchema, 'the usage'), ...errors('TOKEN_SCOPE') },
  });
  documented(app, usage, async (c) => {
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
