import { createHash } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import { outcomeOf, type MediaOutcome, type OutcomePublisher, type ProcessingStatus } from '@tus-edge/processors';
import { WEBHOOK_EVENT_TYPES, type WebhooksConfig } from '../config/webhooks.js';
import type { Logger } from '../ops/logger.js';
import type { DeliveryQueue, Handled } from './queue.js';
import { sendOnce } from './send.js';
import { signedHeaders } from './signing.js';
import type { Resolve } from './targets.js';
import type { NewDelivery, Settlement, SigningEndpoint, WebhookEndpoint, WebhookEvent, WebhookStore } from './types.js';
import { processingEvent, type OwnerLookup } from './events.js';

/** An attempt holds its delivery this much longer than its timeout (the database writes around it). */
const CLAIM_MARGIN_MS = 15_000;

/** Id of the operator endpoint for `url` (from WEBHOOK_URLS): the same on every node. */
export function operatorEndpointId(url: string): string {
  return `op_${createHash('sha256').update(url).digest('hex').slice(0, 16)}`;
}

/** A delivery's id: one per endpoint and event, the same on every node (the dedup key, and JetStream's msgID). */
export function deliveryId(endpointId: string, eventId: string): string {
  return createHash('sha256').update(`${endpointId}\n${eventId}`).digest('hex').slice(0, 32);
}

/**
 * Delay before attempt `attempt + 1`: `base · 2^(attempt-1)`, at most `max`, with jitter (a random
 * 50–100 % of it), so receivers coming back are not hit by every sender at once.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.round(ceiling * (0.5 + 0.5 * random()));
}

export interface WebhooksDeps {
  store: WebhookStore;
  config: WebhooksConfig;
  logger: Logger;
  registry: Registry;
  /** Whose upload an outcome was (the catalogue, the upload records). */
  owners: OwnerLookup;
  /** Job outcomes are read from processing statuses (see {@link Webhooks.fromStatus}). */
  outcomesFromStatus?: boolean;
  /** Where deliveries wait for their attempts (chosen once, in build.ts). */
  queue: DeliveryQueue;
  now?: () => Date;
  /** The resolver targets are checked with (default the system's). */
  resolve?: Resolve;
}

/**
 * Webhooks (issue 15): records one delivery per event and subscribed endpoint (the owner's endpoints
 * and the operator's from WEBHOOK_URLS), and makes each delivery's attempts when its queue hands it
 * over: signed, time-limited, retried with backoff until WEBHOOK_RETRY_FOR is over. A 2xx acknowledges
 * (never sent again), 410 disables the endpoint, anything else is retried.
 */
export class Webhooks {
  /** Operator endpoints (WEBHOOK_URLS), with WEBHOOK_SECRET. */
  readonly operatorEndpoints: SigningEndpoint[];
  private readonly now: () => Date;
  private readonly deliveriesTotal: Counter<'outcome'>;
  private readonly queue: DeliveryQueue;

  constructor(private readonly deps: WebhooksDeps) {
    this.now = deps.now ?? (() => new Date());
    this.queue = deps.queue;
    const created = new Date(0).toISOString();
    this.operatorEndpoints = deps.config.operatorUrls.map((url) => ({
      id: operatorEndpointId(url), tenant: '', owner: '', url, events: [...WEBHOOK_EVENT_TYPES], description: 'operator endpoint (WEBHOOK_URLS)',
      createdAt: created, disabledAt: null, disabledReason: null, operator: true, secret: deps.config.operatorSecret ?? '',
    }));
    // A registry shared by two contexts (tests) keeps the first one's metrics.
    const existing = deps.registry.getSingleMetric('tus_webhook_deliveries_total') as Counter<'outcome'> | undefined;
    this.deliveriesTotal = existing ?? new Counter({
      name: 'tus_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome: delivered (2xx), retry (will be tried again), failed (gave up after WEBHOOK_RETRY_FOR), disabled (410, or the endpoint went)',
      labelNames: ['outcome'],
      registers: [deps.registry],
    });
    for (const outcome of ['delivered', 'retry', 'failed', 'disabled']) this.deliveriesTotal.inc({ outcome }, 0);
    const store = deps.store;
    if (!deps.registry.getSingleMetric('tus_webhook_queue_depth')) {
      new Gauge({
        name: 'tus_webhook_queue_depth',
        help: 'Webhook deliveries pending (waiting for their first attempt or a retry), read from the catalogue at scrape time',
        registers: [deps.registry],
        async collect() {
          try {
            this.set(await store.depth());
          } catch {
            /* database unreachable: keep the last value */
          }
        },
      });
    }
  }

  /** Endpoints and deliveries (the API reads and writes them here). */
  get store(): WebhookStore {
    return this.deps.store;
  }

  /** Starts making attempts of the deliveries the queue hands over (after the catalogue's migration). */
  async start(): Promise<void> {
    await this.queue.start((id) => this.attempt(id));
  }

  /** Stops taking deliveries; attempts running now finish. */
  async stop(): Promise<void> {
    await this.queue.stop();
  }

  /** The endpoint deliveries of `id` go to, with its secret: an operator endpoint, or one in the store. */
  async signingEndpoint(id: string): Promise<SigningEndpoint | undefined> {
    return this.operatorEndpoints.find((e) => e.id === id) ?? (await this.deps.store.signingEndpoint(id));
  }

  /** Operator endpoints as the API shows them (without their secret). */
  operatorViews(): WebhookEndpoint[] {
    return this.operatorEndpoints.map(({ secret: _secret, ...view }) => view);
  }

  /**
   * Records a delivery of `event` for every endpoint subscribed to it, once per endpoint however often
   * the event is emitted (any node, any retry), and queues the new ones. Resolves once recorded.
   */
  async emit(event: WebhookEvent): Promise<number> {
    const owners = event.tenant !== null && event.owner !== null
      ? await this.deps.store.subscribers({ tenant: event.tenant, owner: event.owner }, event.type)
      : [];
    const endpoints = [...owners, ...this.operatorEndpoints.filter((e) => e.events.includes(event.type))];
    if (endpoints.length === 0) return 0;
    const at = this.now();
    const payload = JSON.stringify(event);
    const deliveries: NewDelivery[] = endpoints.map((e) => ({
      id: deliveryId(e.id, event.id), endpointId: e.id, eventId: event.id, eventType: event.type, payload,
      at: at.toISOString(), expiresAt: new Date(Date.parse(event.createdAt) + this.deps.config.retryForMs).toISOString(),
    }));
    const created = await this.deps.store.enqueue(deliveries);
    if (created.length > 0) await this.queue.push(created);
    return created.length;
  }

  /** The outcome publisher the in-process processor runtime reports each job's end to. */
  outcomes(): OutcomePublisher {
    return { publish: (outcome) => this.onOutcome(outcome) };
  }

  /**
   * The processing status of a catalogued upload (the catalogue's status follower): when job outcomes
   * reach this process no other way (workers of their own on the directory queue), each job that ended
   * becomes its event, with the same id as from the outcome path (recorded once).
   */
  async fromStatus(status: ProcessingStatus): Promise<void> {
    if (!this.deps.outcomesFromStatus) return;
    for (const kind of Object.keys(status.jobs)) {
      const outcome = outcomeOf(status, kind);
      if (outcome) await this.onOutcome(outcome);
    }
  }

  /** A job ended (in-process runtime or the `MEDIA` stream): `processing.done` / `processing.failed`. */
  async onOutcome(outcome: MediaOutcome): Promise<void> {
    const event = await processingEvent(outcome, this.deps.owners);
    if (event) await this.emit(event);
  }

  /**
   * One attempt of delivery `id`, if it is due and no other node holds it; says when its queue should
   * hand it over again (or that it is settled).
   */
  async attempt(id: string): Promise<Handled> {
    const { store, config, logger } = this.deps;
    const started = this.now();
    const claim = await store.claim(id, started, new Date(started.getTime() + config.timeoutMs + CLAIM_MARGIN_MS));
    if (!claim.claimed) {
      const d = claim.delivery;
      if (!d || d.state !== 'pending') return { done: true };
      const until = Math.max(Date.parse(d.nextAttemptAt ?? ''), d.claimedUntil ? Date.parse(d.claimedUntil) : 0);
      return { retryInMs: Math.max(50, (Number.isFinite(until) ? until : 0) - started.getTime()) };
    }
    const delivery = claim.delivery;
    const endpoint = await this.signingEndpoint(delivery.endpointId);
    const at = started.toISOString();
    if (!endpoint || endpoint.disabledAt) {
      const error = endpoint ? `endpoint disabled: ${endpoint.disabledReason ?? ''}` : 'endpoint removed';
      await store.settle(id, { attempt: delivery.attempts, at, status: null, error, durationMs: 0 }, { state: 'disabled' });
      this.deliveriesTotal.inc({ outcome: 'disabled' });
      return { done: true };
    }
    const outcome = await sendOnce(endpoint.url, signedHeaders(endpoint.secret, delivery.eventId, delivery.payload, started), delivery.payload, {
      timeoutMs: config.timeoutMs, allowPrivate: config.allowPrivate, ...(this.deps.resolve && { resolve: this.deps.resolve }),
    });
    const attempt = { attempt: delivery.attempts, at, status: outcome.status, error: outcome.error, durationMs: outcome.durationMs };
    let next: Settlement;
    let delay = 0;
    if (outcome.status !== null && outcome.status >= 200 && outcome.status < 300) next = { state: 'delivered' };
    else if (outcome.status === 410) {
      next = { state: 'disabled' };
      if (!endpoint.operator) await store.disableEndpoint(endpoint.id, 'the endpoint answered 410 Gone', this.now());
    } else {
      delay = backoffMs(delivery.attempts, config.backoffBaseMs, config.backoffMaxMs);
      const nextAt = this.now().getTime() + delay;
      next = nextAt > Date.parse(delivery.expiresAt) ? { state: 'failed' } : { state: 'pending', nextAttemptAt: new Date(nextAt).toISOString() };
    }
    const settled = await store.settle(id, attempt, next);
    if (!settled) {
      // Its claim lapsed and another node took it: that node settles it.
      logger.warn('webhook attempt outlived its claim; not recorded', { deliveryId: id, attempt: delivery.attempts });
      return { retryInMs: config.timeoutMs };
    }
    this.deliveriesTotal.inc({ outcome: next.state === 'pending' ? 'retry' : next.state });
    if (next.state === 'failed') logger.warn('webhook delivery given up', { deliveryId: id, endpointId: endpoint.id, eventId: delivery.eventId, attempts: delivery.attempts });
    return next.state === 'pending' ? { retryInMs: delay } : { done: true };
  }
}
