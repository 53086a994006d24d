import type { Context } from 'hono';
import { WEBHOOK_EVENT_TYPES } from '../config/webhooks.js';
import type { AppContext } from '../context.js';
import { tusError } from '../errors.js';
import { documented, errors, json, jsonBody, queryOf, route, z, type ApiApp } from '../http/openapi.js';
import { errorResponse } from '../http/respond.js';
import { newSecret } from '../webhooks/signing.js';
import { checkTarget, TargetRefused } from '../webhooks/targets.js';
import type { Delivery, DeliveryAttempt, WebhookEndpoint } from '../webhooks/types.js';
import { scopeOf } from './files.js';

/** Endpoints one owner may register. */
const MAX_ENDPOINTS = 25;
const URL_MAX = 2048;
const DESCRIPTION_MAX = 500;

const EventTypeSchema = z.enum(WEBHOOK_EVENT_TYPES);

export const WebhookSchema = z.object({
  id: z.string(), url: z.string(), events: z.array(EventTypeSchema), description: z.string().nullable(), createdAt: z.string(),
  disabledAt: z.string().nullable().describe('set when the endpoint answered 410 Gone: nothing more is sent'),
  disabledReason: z.string().nullable(),
  operator: z.boolean().optional().describe('an operator endpoint from WEBHOOK_URLS (receives every owner\'s events)'),
}).openapi('Webhook');

export const CreatedWebhookSchema = WebhookSchema.extend({
  secret: z.string().describe('the signing secret (HMAC-SHA256 key, as UTF-8): shown this once'),
}).openapi('CreatedWebhook');

const CreateWebhookBody = z.object({
  url: z.string().max(URL_MAX).describe('http(s) URL the events are POSTed to'),
  events: z.array(EventTypeSchema).min(1).max(WEBHOOK_EVENT_TYPES.length),
  description: z.string().max(DESCRIPTION_MAX).optional(),
}).strict().openapi('CreateWebhook');

const AttemptSchema = z.object({
  attempt: z.number().int(), at: z.string(), status: z.number().int().nullable(), error: z.string().nullable(), durationMs: z.number(),
}).openapi('WebhookAttempt');

export const DeliverySchema = z.object({
  id: z.string(), eventId: z.string(), eventType: EventTypeSchema,
  state: z.enum(['pending', 'delivered', 'failed', 'disabled']),
  attempts: z.number().int(), lastStatus: z.number().int().nullable(), lastError: z.string().nullable(),
  nextAttemptAt: z.string().nullable(), deliveredAt: z.string().nullable(), expiresAt: z.string(), createdAt: z.string(),
  history: z.array(AttemptSchema).describe('the newest attempts (up to 20), newest first'),
}).openapi('WebhookDelivery');

const DeliveriesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).optional(),
  before: z.string().max(200).optional().describe('the previous page\'s nextBefore'),
});

const IdParams = z.object({ id: z.string() });

function view(endpoint: WebhookEndpoint) {
  const { tenant: _tenant, owner: _owner, ...rest } = endpoint;
  return rest;
}

function deliveryView(d: Delivery & { history: DeliveryAttempt[] }) {
  const { payload: _payload, claimedUntil: _claimed, endpointId: _endpoint, ...rest } = d;
  return rest;
}

/**
 * The webhooks API (issue 15): an owner registers endpoints for `upload.finished`, `processing.done`
 * and `processing.failed` (`POST /api/webhooks` answers the signing secret once), lists, reads and
 * deletes them, and sees every delivery with its attempts. Owner-scoped: another owner's endpoint is
 * 404. The operator (OPERATOR_TOKEN) sees the endpoints configured with WEBHOOK_URLS and their deliveries.
 */
export function mountWebhooksApi(app: ApiApp, deps: AppContext): void {
  const { webhooks, config } = deps;
  const fail = (err: unknown) => errorResponse(err, deps.metrics, deps.logger);
  const isOperator = (c: Context) => c.get('identity')?.kind === 'operator';
  /** The endpoint `id` as the caller may see it: an operator endpoint for the operator, else one of the caller's own. */
  const endpointOf = async (c: Context, id: string): Promise<WebhookEndpoint> => {
    const found = isOperator(c)
      ? webhooks.operatorViews().find((e) => e.id === id)
      : await webhooks.store.getEndpoint(scopeOf(c.get('identity')), id);
    if (!found) throw tusError('WEBHOOK_NOT_FOUND');
    return found;
  };

  documented(app, route({
    method: 'post', path: '/api/webhooks', tags: ['webhooks'], summary: 'Register a webhook endpoint',
    description: 'Deliveries are POSTed as JSON with `Webhook-Id` (the event id: deduplicate by it), `Webhook-Timestamp` and ' +
      '`Webhook-Signature: v1,<base64 HMAC-SHA256 of "<timestamp>.<body>">`; 2xx acknowledges, 410 disables the endpoint, ' +
      'anything else is retried with exponential backoff for WEBHOOK_RETRY_FOR (default 24h).',
    request: { body: { content: { 'application/json': { schema: CreateWebhookBody } }, required: true } },
    responses: {
      201: json(CreatedWebhookSchema, 'the endpoint, with its signing secret (shown once)'),
      ...errors('INVALID_REQUEST_BODY', 'WEBHOOK_TARGET_REFUSED', 'TOKEN_SCOPE', 'WEBHOOK_LIMIT', 'AUTH_REQUIRED'),
    },
  }), async (c) => {
    try {
      if (isOperator(c)) throw tusError('TOKEN_SCOPE', 'operator endpoints are configured with WEBHOOK_URLS');
      const scope = scopeOf(c.get('identity'));
      const body = await jsonBody(c, CreateWebhookBody, config.security.requestTimeoutMs);
      try {
        await checkTarget(body.url, config.webhooks.allowPrivate);
      } catch (err) {
        if (err instanceof TargetRefused) throw tusError('WEBHOOK_TARGET_REFUSED', err.message);
        throw err;
      }
      if ((await webhooks.store.listEndpoints(scope)).length >= MAX_ENDPOINTS) throw tusError('WEBHOOK_LIMIT', `at most ${MAX_ENDPOINTS}`);
      const secret = newSecret();
      const endpoint = await webhooks.store.createEndpoint(
        { scope, url: body.url, events: [...new Set(body.events)], description: body.description ?? null, secret }, deps.now(),
      );
      return c.json({ ...view(endpoint), secret }, 201);
    } catch (err) {
      return fail(err);
    }
  });

  documented(app, route({
    method: 'get', path: '/api/webhooks', tags: ['webhooks'], summary: 'The caller\'s webhook endpoints (the operator\'s: WEBHOOK_URLS)',
    responses: { 200: json(z.object({ webhooks: z.array(WebhookSchema) }), 'the endpoints, oldest first'), ...errors('TOKEN_SCOPE', 'AUTH_REQUIRED') },
  }), async (c) => {
    try {
      const list = isOperator(c) ? webhooks.operatorViews() : await webhooks.store.listEndpoints(scopeOf(c.get('identity')));
      return c.json({ webhooks: list.map(view) });
    } catch (err) {
      return fail(err);
    }
  });

  documented(app, route({
    method: 'get', path: '/api/webhooks/{id}', tags: ['webhooks'], summary: 'One webhook endpoint of the caller',
    request: { params: IdParams },
    responses: { 200: json(WebhookSchema, 'the endpoint'), ...errors('WEBHOOK_NOT_FOUND', 'TOKEN_SCOPE', 'AUTH_REQUIRED') },
  }), async (c) => {
    try {
      return c.json(view(await endpointOf(c, c.req.param('id')!)));
    } catch (err) {
      return fail(err);
    }
  });

  documented(app, route({
    method: 'delete', path: '/api/webhooks/{id}', tags: ['webhooks'], summary: 'Delete a webhook endpoint (its pending deliveries end)',
    request: { params: IdParams },
    responses: { 204: { description: 'deleted' }, ...errors('WEBHOOK_NOT_FOUND', 'TOKEN_SCOPE', 'AUTH_REQUIRED') },
  }), async (c) => {
    try {
      if (isOperator(c)) throw tusError('TOKEN_SCOPE', 'operator endpoints are configured with WEBHOOK_URLS');
      if (!(await webhooks.store.removeEndpoint(scopeOf(c.get('identity')), c.req.param('id')!))) throw tusError('WEBHOOK_NOT_FOUND');
      return c.body(null, 204);
    } catch (err) {
      return fail(err);
    }
  });

  documented(app, route({
    method: 'get', path: '/api/webhooks/{id}/deliveries', tags: ['webhooks'], summary: 'Deliveries to an endpoint, newest first, with their attempts',
    request: { params: IdParams, query: DeliveriesQuery },
    responses: {
      200: json(z.object({ deliveries: z.array(DeliverySchema), nextBefore: z.string().nullable() }), 'the deliveries'),
      ...errors('WEBHOOK_NOT_FOUND', 'INVALID_QUERY', 'TOKEN_SCOPE', 'AUTH_REQUIRED'),
    },
  }), async (c) => {
    try {
      const endpoint = await endpointOf(c, c.req.param('id')!);
      const query = queryOf(c, DeliveriesQuery);
      const limit = query.limit ?? 50;
      const list = await webhooks.store.deliveries(endpoint.id, limit, query.before);
      return c.json({ deliveries: list.map(deliveryView), nextBefore: list.length === limit ? `${list[list.length - 1]!.createdAt}|${list[list.length - 1]!.id}` : null });
    } catch (err) {
      return fail(err);
    }
  });
}
