import type { Context } from 'hono';
import { documented, errors, json, queryOf, route, z, type ApiApp } from '../http/openapi.js';
import { requireOperator, type Identity } from '../auth/identity.js';
import type { AppContext } from '../context.js';
import { tusError } from '../errors.js';
import { errorResponse } from '../http/respond.js';
import type { HistoryScope, RangeQuery } from '../analytics/types.js';
import { REPORTS_ID } from '../analytics/rollup-task.js';
import { scopeOf } from './files.js';

/** Default range: the last 24 h. Longest range one request may ask for. */
const DEFAULT_RANGE_MS = 86_400_000;
const MAX_RANGE_MS = 400 * 86_400_000;

const time = z.string().refine((v) => Number.isFinite(Date.parse(v)), 'must be an ISO 8601 time');
const RangeSchema = z.object({
  from: time.optional().openapi({ description: 'start (ISO 8601, inclusive); default `to` − 24 h' }),
  to: time.optional().openapi({ description: 'end (ISO 8601, exclusive); default now' }),
  owner: z.string().optional().openapi({ description: "operator only: one owner's history" }),
  tenant: z.string().optional().openapi({ description: "operator only: one tenant's history" }),
});
const ProcessingQuerySchema = RangeSchema.extend({
  groupBy: z.enum(['kind', 'mediaType']).default('kind'),
  interval: z.enum(['1h', '1d']).optional().openapi({ description: 'adds a series per group, one point per hour or day' }),
});

const PercentilesSchema = z.object({ p50: z.number(), p95: z.number(), p99: z.number() }).openapi('Percentiles');

/** The answer of `GET /api/analytics/processing` (the shape the admin page draws). */
export const ProcessingAnalyticsSchema = z.object({
  from: z.string(), to: z.string(), groupBy: z.enum(['kind', 'mediaType']), interval: z.enum(['1h', '1d']).optional(),
  groups: z.array(z.object({
    key: z.string(),
    jobs: z.number().int().describe('jobs that ended (done or failed)'),
    done: z.number().int(), failed: z.number().int(), failureRate: z.number(),
    durationMs: PercentilesSchema.nullable().describe('run time of done attempts; null without one'),
    queueWaitMs: PercentilesSchema.nullable().describe('queue wait of ended attempts; null without one'),
    series: z.array(z.object({ start: z.string(), jobs: z.number().int(), failed: z.number().int(), p50Ms: z.number().nullable(), p95Ms: z.number().nullable() })).optional(),
  })),
}).openapi('ProcessingAnalytics');

export const GenerationAnalyticsSchema = z.object({
  from: z.string(), to: z.string(),
  models: z.array(z.object({
    model: z.string(), requests: z.number().int(), failures: z.number().int(),
    promptTokens: z.number().int(), completionTokens: z.number().int(), latencyMs: PercentilesSchema.nullable(),
  })),
}).openapi('GenerationAnalytics');

const UsageFigures = { uploads: z.number().int(), bytes: z.number().int(), abandoned: z.number().int() };
export const UsageAnalyticsSchema = z.object({
  from: z.string(), to: z.string(),
  days: z.array(z.object({ day: z.string(), ...UsageFigures })),
  owners: z.array(z.object({ tenant: z.string(), owner: z.string(), ...UsageFigures })).optional().describe('the operator only: per owner, largest first'),
}).openapi('UsageAnalytics');

/** The range and whose history: a user's own (owner/tenant refused), the operator's all or filtered. */
function rangeOf(c: Context, q: z.infer<typeof RangeSchema>, now: Date): RangeQuery & { operator: boolean } {
  const to = q.to ? new Date(Date.parse(q.to)) : now;
  const from = q.from ? new Date(Date.parse(q.from)) : new Date(to.getTime() - DEFAULT_RANGE_MS);
  if (from.getTime() >= to.getTime()) throw tusError('INVALID_QUERY', 'from must be before to');
  if (to.getTime() - from.getTime() > MAX_RANGE_MS) throw tusError('INVALID_QUERY', 'a range spans at most 400 days');
  const identity = c.get('identity') as Identity | undefined;
  if (identity?.kind === 'operator') {
    const scope: HistoryScope = {};
    if (q.tenant !== undefined) scope.tenant = q.tenant;
    if (q.owner !== undefined) scope.owner = q.owner;
    return { from, to, scope, operator: true };
  }
  if (q.owner !== undefined || q.tenant !== undefined) requireOperator(identity);
  return { from, to, scope: scopeOf(identity), operator: false };
}

const ERRORS = errors('INVALID_QUERY', 'AUTH_REQUIRED', 'TOKEN_SCOPE', 'OPERATOR_REQUIRED');

/**
 * The analytics API (issue 15) from the job history: `GET /api/analytics/processing` (jobs per kind
 * or media type: counts, failure rate, p50/p95/p99 run time and queue wait, optional series),
 * `GET /api/analytics/generation` (per model) and `GET /api/analytics/usage` (per day; per owner for
 * the operator). A user sees their own uploads' history; the operator everyone's, or one owner's.
 */
export function mountAnalyticsApi(app: ApiApp, deps: AppContext): void {
  const fail = (err: unknown) => errorResponse(err, deps.metrics, deps.logger);
  const { history } = deps;

  documented(app, route({
    method: 'get', path: '/api/analytics/processing', tags: ['analytics'], summary: 'Processing times and failures per kind or media type',
    request: { query: ProcessingQuerySchema },
    responses: { 200: json(ProcessingAnalyticsSchema, 'jobs that ended in the range, by group'), ...ERRORS },
  }), async (c) => {
    try {
      const q = queryOf(c, ProcessingQuerySchema);
      const range = rangeOf(c, q, deps.now());
      return c.json(await history.processing({ ...range, groupBy: q.groupBy, ...(q.interval && { interval: q.interval }) }));
    } catch (err) {
      return fail(err);
    }
  });

  documented(app, route({
    method: 'get', path: '/api/analytics/generation', tags: ['analytics'], summary: 'Generation requests, tokens, latency and failures per model',
    request: { query: RangeSchema },
    responses: { 200: json(GenerationAnalyticsSchema, 'generation attempts in the range, by model'), ...ERRORS },
  }), async (c) => {
    try {
      return c.json(await history.generation(rangeOf(c, queryOf(c, RangeSchema), deps.now())));
    } catch (err) {
      return fail(err);
    }
  });

  documented(app, route({
    method: 'get', path: '/api/analytics/usage', tags: ['analytics'], summary: 'Uploads, bytes and abandoned uploads per day (per owner for the operator)',
    request: { query: RangeSchema },
    responses: { 200: json(UsageAnalyticsSchema, 'upload usage in the range'), ...ERRORS },
  }), async (c) => {
    try {
      const range = rangeOf(c, queryOf(c, RangeSchema), deps.now());
      return c.json(await history.usage(range, range.operator));
    } catch (err) {
      return fail(err);
    }
  });

  documented(app, route({
    method: 'get', path: '/api/analytics/reports', tags: ['analytics'], summary: 'The daily reports the rollup wrote (operator)',
    responses: { 200: json(ReportListSchema, 'report files, oldest first'), ...errors('OPERATOR_REQUIRED', 'AUTH_REQUIRED') },
  }), async (c) => {
    try {
      requireOperator(c.get('identity'));
      const files = await deps.results.list(REPORTS_ID);
      return c.json({ reports: files.map((f) => ({ name: f.name, size: f.size, contentType: f.contentType })) });
    } catch (err) {
      return fail(err);
    }
  });

  documented(app, route({
    method: 'get', path: '/api/analytics/reports/{name}', tags: ['analytics'], summary: 'One daily report, `YYYY-MM-DD.json` or `.csv` (operator)',
    request: { params: z.object({ name: z.string().regex(REPORT_NAME) }) },
    responses: {
      200: { description: 'the report', content: { 'application/json': { schema: z.object({}).passthrough() }, 'text/csv': { schema: z.string() } } },
      ...errors('REPORT_NOT_FOUND', 'OPERATOR_REQUIRED', 'AUTH_REQUIRED'),
    },
  }), async (c) => {
    try {
      requireOperator(c.get('identity'));
      const name = c.req.param('name')!;
      const got = REPORT_NAME.test(name) ? await deps.results.get(REPORTS_ID, name) : null;
      if (!got) throw tusError('REPORT_NOT_FOUND');
      const chunks: Buffer[] = [];
      for await (const chunk of got.stream as AsyncIterable<Buffer>) chunks.push(chunk);
      return c.body(Buffer.concat(chunks), 200, { 'Content-Type': got.file.contentType });
    } catch (err) {
      return fail(err);
    }
  });
}

const REPORT_NAME = /^\d{4}-\d{2}-\d{2}\.(json|csv)$/;
const ReportListSchema = z.object({ reports: z.array(z.object({ name: z.string(), size: z.number().int(), contentType: z.string() })) }).openapi('AnalyticsReports');
