import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { tusError } from '../errors.js';
import type { Lifecycle } from '../ops/lifecycle.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { errorResponse } from './respond.js';

declare module 'hono' {
  interface ContextVariableMap {
    requestId: string;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Request id (from `X-Request-Id` when well formed), one JSON log line and metrics per request. */
export function requestLog(logger: Logger, metrics: Metrics, routeOf: (path: string) => string): MiddlewareHandler {
  return async function requestLogMiddleware(c, next) {
    const started = performance.now();
    const given = c.req.header('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    c.set('requestId', requestId);
    await next();
    c.res.headers.set('X-Request-Id', requestId);
    const route = routeOf(c.req.path);
    metrics.httpRequests.inc({ method: c.req.method, route, status: String(c.res.status) });
    if (route === 'ops') return;
    logger.info('request', {
      reqId: requestId,
      method: c.req.method,
      override: c.req.header('x-http-method-override'),
      path: c.req.path,
      status: c.res.status,
      ms: Math.round(performance.now() - started),
    });
  };
}

/** While draining for shutdown, new requests are refused with 503 and the connection is closed. */
export function refuseWhileDraining(lifecycle: Lifecycle, metrics: Metrics, logger: Logger): MiddlewareHandler {
  return async function refuseWhileDrainingMiddleware(c, next) {
    if (lifecycle.draining && c.req.path !== '/healthz' && c.req.path !== '/metrics') {
      return errorResponse(tusError('SHUTTING_DOWN'), metrics, logger, { Connection: 'close', 'Retry-After': '1' });
    }
    await next();
  };
}

export interface CorsOptions {
  /** Allowed origins; `*` allows any. */
  origins: string[];
  /** `Access-Control-Allow-Methods` of a preflight answer. */
  allowMethods: string;
  /** `Access-Control-Allow-Headers` of a preflight answer. */
  allowHeaders: string;
  /** `Access-Control-Expose-Headers`: response headers a page's script may read. */
  exposeHeaders: string;
}

/**
 * CORS for browsers: allowed origins get `Access-Control-Allow-Origin`, the given headers are exposed,
 * and preflights (OPTIONS with `Access-Control-Request-Method`) are answered with 204.
 */
export function cors({ origins, allowMethods, allowHeaders, exposeHeaders }: CorsOptions): MiddlewareHandler {
  const any = origins.includes('*');
  return async function corsMiddleware(c, next) {
    const origin = c.req.header('origin');
    const allowed = origin !== undefined && (any || origins.includes(origin));
    const preflight = c.req.method === 'OPTIONS' && c.req.header('access-control-request-method') !== undefined;
    if (!preflight) await next();
    if (!allowed) return preflight ? new Response(null, { status: 403 }) : undefined;
    const headers = preflight ? new Headers() : c.res.headers;
    headers.set('Access-Control-Allow-Origin', any ? '*' : origin);
    headers.append('Vary', 'Origin');
    headers.set('Access-Control-Expose-Headers', exposeHeaders);
    if (!preflight) return undefined;
    headers.set('Access-Control-Allow-Methods', allowMethods);
    headers.set('Access-Control-Allow-Headers', allowHeaders);
    headers.set('Access-Control-Max-Age', '86400');
    return new Response(null, { status: 204, headers });
  };
}
