import { SpanKind, SpanStatusCode, trace, context as otelContext } from '@opentelemetry/api';
import type { MiddlewareHandler } from 'hono';
import { contextFrom, tracer } from '@tus-edge/processors';

/**
 * One server span per request (`tus PATCH`, `api GET`, …), continuing a client's `traceparent` when it
 * sends one, and active while the request is handled, so storage, S3, lock and event spans are its
 * children and log lines carry its trace id. Handlers add tus attributes (upload id, offsets, bytes,
 * lock wait, storage time) to it. Operations routes (`/healthz`, `/readyz`, `/metrics`) are not traced.
 * With tracing off the tracer is the API's no-op one.
 */
export function traceRequests(routeOf: (path: string) => string): MiddlewareHandler {
  return async function traceRequestsMiddleware(c, next) {
    const route = routeOf(c.req.path);
    if (route === 'ops') return next();
    const parent = contextFrom(c.req.header('traceparent'), otelContext.active());
    const method = c.req.header('x-http-method-override')?.toUpperCase() ?? c.req.method;
    const span = tracer().startSpan(`${route} ${method}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': method, 'url.path': c.req.path, 'http.route': route },
    }, parent);
    try {
      await otelContext.with(trace.setSpan(parent, span), next);
      span.setAttribute('http.response.status_code', c.res.status);
      if (c.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
      throw err;
    } finally {
      span.end();
    }
  };
}
