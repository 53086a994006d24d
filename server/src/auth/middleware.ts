import { MAX_API_BODY_BYTES } from '../http/json-body.js';
import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { tusError } from '../errors.js';
import type { AuthDeps } from './deps.js';
import { errorResponse } from '../http/respond.js';
import { mayAccess, rateKey, sameSecret, type Identity } from './identity.js';
import { findRecord } from '../catalogue/records.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** Who is calling, set by {@link authenticate} on every route but the open ones. */
    identity: Identity;
  }
}

const UPLOAD_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** The caller's address: the socket's, or with TRUST_PROXY the first X-Forwarded-For entry. */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded.slice(0, 64);
  }
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket?.remoteAddress ?? 'unknown';
}

/** The upload a path names: `<tusPath>/<id>` or `/api/uploads/<id>[/...]`; undefined otherwise. */
export function uploadIdOf(pathname: string, tusPath: string): string | undefined {
  let raw: string | undefined;
  if (pathname.startsWith(`${tusPath}/`)) raw = pathname.slice(tusPath.length + 1);
  else if (pathname.startsWith('/api/uploads/')) raw = pathname.slice('/api/uploads/'.length).split('/')[0];
  if (!raw) return undefined;
  try {
    raw = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  return UPLOAD_ID.test(raw) ? raw : undefined;
}

/**
 * Authentication and ownership, once per request, before any handler runs:
 * - `/healthz`, `/readyz` and the public assets (`/sdk/*`, `/demo/*`, the operator page's files `/admin/*`,
 *   whose data needs the operator token) are open; `/metrics` needs `METRICS_TOKEN` when set; CORS preflights never
 *   get here (the CORS middleware answers them) and tus `OPTIONS` (discovery) is open;
 * - a GET/HEAD with `signature` is a signed URL: valid for exactly its path, 403 when tampered or expired;
 * - otherwise the bearer token names the identity (401 with WWW-Authenticate when missing or bad),
 *   its request rate is counted (429), an upload token is kept to the upload routes, and a request
 *   that names an upload (tus URL, `/api/uploads/:id/...`) owned by someone else gets 404, as if the
 *   upload did not exist. This is the one ownership check for HEAD, PATCH, DELETE, GET, the upload
 *   API, its event stream, its results and its signed URLs.
 */
export function authenticate(deps: AuthDeps): MiddlewareHandler {
  const { security, records, config, metrics, logger } = deps;
  const tusPath = config.tusPath;
  const onTus = (p: string) => p === tusPath || p === `${tusPath}/` || p.startsWith(`${tusPath}/`);
  return async function authenticateMiddleware(c, next) {
    const path = c.req.path;
    // Liveness, readiness, the API description and the public browser assets (the SDK bundle, the demo page) are open.
    if (path === '/healthz' || path === '/readyz' || path === '/api/openapi.json' || path === '/api/docs' || path.startsWith('/api/docs/') || path.startsWith('/sdk/') || path === '/demo' || path.startsWith('/demo/') || path === '/admin' || path.startsWith('/admin/')) return next();
    try {
      if (path === '/metrics') {
        const token = security.config.metricsToken;
        const given = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
        if (token && !(given && sameSecret(given, token))) {
          throw tusError('METRICS_TOKEN_REQUIRED', undefined, { 'WWW-Authenticate': 'Bearer realm="metrics"' });
        }
        return await next();
      }
      const address = clientAddress(c, config.trustProxy);
      const url = new URL(c.req.url);
      const signature = url.searchParams.get('signature');
      let identity: Identity;
      if (signature !== null && (c.req.method === 'GET' || c.req.method === 'HEAD') && !c.req.header('x-http-method-override')) {
        const check = security.parts.signer.verify(url.pathname, url.searchParams.get('expires') ?? undefined, signature);
        if (check !== 'valid') throw tusError('SIGNED_URL_INVALID', check);
        identity = { kind: 'signed-url', path: url.pathname, address };
      } else if (c.req.method === 'OPTIONS' && onTus(path)) {
        identity = { kind: 'anonymous', address };
      } else {
        identity = await security.identify(c.req.header('authorization'), address);
      }
      c.set('identity', identity);
      await security.parts.limits.request(rateKey(identity));
      const id = uploadIdOf(url.pathname, tusPath);
      if (identity.kind === 'upload-token') {
        const readsApi = c.req.method === 'GET' && id !== undefined && path.startsWith('/api/uploads/');
        if (!onTus(path) && !readsApi) throw tusError('TOKEN_SCOPE', 'an upload token only creates, resumes and reads its uploads');
        if (id === undefined) security.refuseExpired(identity);
      }
      if (id !== undefined && (identity.kind === 'user' || identity.kind === 'upload-token')) {
        const record = await findRecord(records, deps.catalogue, id);
        if (record && !mayAccess(identity, record)) throw tusError('UPLOAD_NOT_FOUND');
      }
    } catch (err) {
      return errorResponse(err, metrics, logger);
    }
    return next();
  };
}

/** Bodies of routes other than the tus upload routes are small: a larger Content-Length is 413. */
export function limitApiBodies(deps: AuthDeps): MiddlewareHandler {
  const tusPath = deps.config.tusPath;
  return async function limitApiBodiesMiddleware(c, next) {
    const p = c.req.path;
    if (p === tusPath || p.startsWith(`${tusPath}/`)) return next();
    const length = Number(c.req.header('content-length') ?? 0);
    if (length > MAX_API_BODY_BYTES) {
      return errorResponse(tusError('REQUEST_TOO_LARGE', `at most ${MAX_API_BODY_BYTES} bytes`), deps.metrics, deps.logger, { Connection: 'close' });
    }
    return next();
  };
}
