import { QueueUnavailableError, retryDeadLetter, type DeadLetter } from '@tus-edge/processors';
import { requireOperator } from '../auth/identity.js';
import type { AppContext } from '../context.js';
import { tusError } from '../errors.js';
import { documented, errors, json, queryOf, route, z, type ApiApp } from '../http/openapi.js';
import { errorResponse } from '../http/respond.js';
import { buildOverview } from './overview.js';

/** Dead letters per page unless `limit` says otherwise (at most {@link MAX_LIMIT}). */
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;

const LaneSchema = z.enum(['high', 'normal']);

/** A dead letter as the operator API shows it (the stored event stays inside: it holds storage paths). */
export const DeadLetterSchema = z.object({
  id: z.string().describe('id for retry: `<eventId>~<kind>` (directory queue) or the DEADLETTER stream sequence (JetStream)'),
  jobId: z.string(), kind: z.string(), lane: LaneSchema, uploadId: z.string().nullable(),
  code: z.string(), reason: z.string(), attempts: z.number().int(),
  failedAt: z.string(), retriedAt: z.string().nullable().describe('when the operator put the job back; null until then'),
}).openapi('DeadLetter');

const QueueDepthSchema = z.object({ kind: z.string(), lane: LaneSchema, waiting: z.number().int(), inFlight: z.number().int() }).openapi('QueueDepth');

export const OverviewSchema = z.object({
  at: z.string(), node: z.string(), deployment: z.enum(['embedded', 'distributed']), queue: z.enum(['directory', 'jetstream']),
  queues: z.array(QueueDepthSchema).describe('live depth per kind and lane, of the whole queue'),
  nodes: z.array(z.object({ node: z.string(), workers: z.record(z.string(), z.number()), inFlight: z.record(z.string(), z.number()) }))
    .describe("this node's processor runtime, when it runs one (workers elsewhere report on their own /metrics)"),
  recentFailures: z.array(DeadLetterSchema).describe('the newest dead letters'),
  problems: z.array(z.string()).describe('parts that could not be read'),
}).openapi('AdminOverview');

export const DeadLetterPageSchema = z.object({ deadLetters: z.array(DeadLetterSchema), nextCursor: z.string().nullable() }).openapi('DeadLetterPage');

export const RetrySchema = z.object({
  outcome: z.enum(['retried', 'already-retried']).describe('`already-retried`: an earlier call put it back; nothing was queued now'),
  deadLetter: DeadLetterSchema,
}).openapi('DeadLetterRetry');

const PageQuery = z.object({
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).optional(),
});

/** The API view of a dead letter. */
export function deadLetterView(d: DeadLetter): z.infer<typeof DeadLetterSchema> {
  const { event: _event, ...rest } = d;
  return rest;
}

/** Errors of the queue's backing service (NATS, the queue directory) answer 503 QUEUE_UNAVAILABLE. */
function queueError(err: unknown): unknown {
  if (err instanceof QueueUnavailableError) return tusError('QUEUE_UNAVAILABLE', err.message);
  const name = (err as Error | undefined)?.name ?? '';
  if (/nats|jetstream|timeout/i.test(name)) return tusError('QUEUE_UNAVAILABLE', (err as Error).message);
  return err;
}

/**
 * The operator API (issue 15, "an operator view"), every route behind `requireOperator`:
 * `GET /api/admin/overview`, `GET /api/admin/dead-letters` (paged, newest first) and
 * `POST /api/admin/dead-letters/{id}/retry` (the job back on its queue once; idempotent).
 */
export function mountAdminApi(app: ApiApp, deps: AppContext): void {
  const { queueAdmin } = deps;
  const fail = (err: unknown) => errorResponse(queueError(err), deps.metrics, deps.logger);
  const denied = errors('OPERATOR_REQUIRED', 'AUTH_REQUIRED');

  documented(app, route({
    method: 'get', path: '/api/admin/overview', tags: ['admin'], summary: 'Queue depth, workers and recent failures (operator)',
    responses: { 200: json(OverviewSchema, 'the overview'), ...denied },
  }), async (c) => {
    try {
      requireOperator(c.get('identity'));
      const overview = await buildOverview({ queueAdmin, registry: deps.metrics.registry, node: deps.config.nodeName, now: deps.now });
      return c.json({ ...overview, recentFailures: overview.recentFailures.map(deadLetterView) });
    } catch (err) {
      return fail(err);
    }
  });

  documented(app, route({
    method: 'get', path: '/api/admin/dead-letters', tags: ['admin'], summary: 'Dead letters, newest first (operator)',
    request: { query: PageQuery },
    responses: { 200: json(DeadLetterPageSchema, 'a page of dead letters'), ...errors('INVALID_QUERY', 'QUEUE_UNAVAILABLE'), ...denied },
  }), async (c) => {
    try {
      requireOperator(c.get('identity'));
      const { cursor, limit } = queryOf(c, PageQuery);
      const page = await queueAdmin.deadLetters({ cursor, limit: limit ?? DEFAULT_LIMIT });
      return c.json({ deadLetters: page.items.map(deadLetterView), nextCursor: page.nextCursor });
    } catch (err) {
      return fail(err);
    }
  });

  documented(app, route({
    method: 'post', path: '/api/admin/dead-letters/{id}/retry', tags: ['admin'], summary: 'Put a dead letter\'s job back on its queue, once (operator)',
    request: { params: z.object({ id: z.string() }) },
    responses: {
      200: json(RetrySchema, 'queued again, or already queued by an earlier call'),
      ...errors('DEAD_LETTER_NOT_FOUND', 'DEAD_LETTER_NOT_RETRYABLE', 'DEAD_LETTER_STALE', 'QUEUE_UNAVAILABLE'), ...denied,
    },
  }), async (c) => {
    try {
      requireOperator(c.get('identity'));
      const id = c.req.param('id')!;
      const outcome = await retryDeadLetter(queueAdmin, deps.status, id, deps.now);
      if (outcome === 'not-found') throw tusError('DEAD_LETTER_NOT_FOUND');
      if (outcome === 'not-retryable') throw tusError('DEAD_LETTER_NOT_RETRYABLE');
      if (outcome === 'stale') throw tusError('DEAD_LETTER_STALE');
      const deadLetter = await queueAdmin.deadLetter(id);
      if (!deadLetter) throw tusError('DEAD_LETTER_NOT_FOUND');
      deps.logger.info('dead letter retried by the operator', { id, job: deadLetter.jobId, outcome });
      return c.json({ outcome, deadLetter: deadLetterView(deadLetter) });
    } catch (err) {
      return fail(err);
    }
  });
}
