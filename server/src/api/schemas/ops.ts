/** Schemas of the operations endpoints (`/healthz`, `/readyz`, `/metrics`). */
import { errors, json, route, z } from '../../http/openapi.js';

/** `GET /healthz`: the process answers. */
export const HealthSchema = z.object({ status: z.literal('ok') }).openapi('Health');

/** `GET /readyz`: whether the backing services answer, with the circuit breakers and bulkheads. */
export const ReadinessSchema = z.object({
  status: z.enum(['ready', 'starting', 'draining', 'unavailable']),
  failed: z.record(z.string(), z.string()).optional().describe('each backing service that did not answer, with why'),
  circuits: z.record(z.string(), z.enum(['closed', 'half-open', 'open'])).describe('state of each circuit breaker (an open one answers its calls 503 at once)'),
  bulkheads: z.record(z.string(), z.object({ limit: z.number().int(), inUse: z.number().int(), waiting: z.number().int() })).describe("each bulkhead's use"),
}).openapi('Readiness');

/** `GET /healthz` (open). */
export const healthRoute = route({
  method: 'get', path: '/healthz', tags: ['operations'], summary: 'Liveness: the process answers', security: [],
  responses: { 200: json(HealthSchema, 'alive') },
});

/** `GET /readyz` (open). */
export const readinessRoute = route({
  method: 'get', path: '/readyz', tags: ['operations'], summary: 'Readiness: the backing services answer (within 2 s each)', security: [],
  responses: { 200: json(ReadinessSchema, 'ready'), 503: json(ReadinessSchema, 'starting, draining, or a backing service does not answer') },
});

/** `GET /metrics` (METRICS_TOKEN when set). */
export const metricsRoute = route({
  method: 'get', path: '/metrics', tags: ['operations'], summary: 'Prometheus metrics', security: [{ metricsToken: [] }],
  description: 'Open unless METRICS_TOKEN is set; then `Authorization: Bearer <METRICS_TOKEN>`.',
  responses: {
    200: { description: 'the Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } },
    ...errors('METRICS_TOKEN_REQUIRED'),
  },
});
