import {
  connectNats, DurableConsumer, ensureWorkQueueStream, publishOnce, type DurableConsumerOptions, type DurableMessage, type Handled, type NatsConnection,
} from '@tus-edge/processors';
import type { Logger } from '../ops/logger.js';
import type { WebhookStore } from './types.js';

export type { Handled };

/**
 * Where deliveries wait for their next attempt. Each delivery is recorded in the catalogue database
 * first (state, attempts, next attempt); the queue hands its id to a sender when it is due, on any node.
 * Implementations: {@link CatalogueQueue} (embedded: the catalogue's delivery table itself is the durable
 * queue) and {@link JetStreamQueue} (distributed: the `WEBHOOKS` work-queue stream, shared by the nodes).
 */
export interface DeliveryQueue {
  readonly name: 'catalogue' | 'jetstream';
  /** New deliveries, just recorded: hand them to a sender. A failure here is repaired by the queue itself. */
  push(ids: string[]): Promise<void>;
  /** Starts handing due deliveries to `attempt` (at most `concurrency` at once on this node). */
  start(attempt: (id: string) => Promise<Handled>): Promise<void>;
  /** Stops taking deliveries and waits for the attempts running now. */
  stop(): Promise<void>;
}

export interface QueueOptions {
  concurrency: number;
  pollIntervalMs: number;
  now: () => Date;
  logger: Logger;
}

/**
 * The embedded queue: pending deliveries due now are read from the catalogue database every poll
 * interval (at once after a push or a finished attempt). Durable as the database is; a node that
 * stops leaves its claimed deliveries to be taken again once their claim lapses.
 */
export class CatalogueQueue implements DeliveryQueue {
  readonly name = 'catalogue' as const;
  private stopped = false;
  private readonly inFlight = new Map<string, Promise<void>>();
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly store: Pick<WebhookStore, 'due'>, private readonly options: QueueOptions) {}

  async push(): Promise<void> {
    this.wake?.();
  }

  async start(attempt: (id: string) => Promise<Handled>): Promise<void> {
    this.loop = this.run(attempt);
  }

  private async run(attempt: (id: string) => Promise<Handled>): Promise<void> {
    const { concurrency, pollIntervalMs, logger } = this.options;
    while (!this.stopped) {
      try {
        const free = concurrency - this.inFlight.size;
        if (free > 0) {
          const ids = (await this.store.due(this.options.now(), concurrency * 2)).filter((id) => !this.inFlight.has(id)).slice(0, free);
          for (const id of ids) {
            const running = attempt(id)
              .then(() => undefined, (err: Error) => logger.warn('webhook attempt failed', { deliveryId: id, err: err.message }))
              .finally(() => {
                this.inFlight.delete(id);
                this.wake?.();
              });
            this.inFlight.set(id, running);
          }
        }
      } catch (err) {
        logger.warn('webhook queue poll failed', { err: (err as Error).message });
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollIntervalMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await Promise.allSettled([...this.inFlight.values()]);
  }
}

/** The stream, subject and durable consumer of the distributed queue. */
export const WEBHOOK_STREAM = { name: 'WEBHOOKS', subject: 'webhooks.deliveries', consumer: 'webhook-sender' } as const;

/** A message is stored once per id within this window (a push retried, the overdue sweep). */
const DUPLICATE_WINDOW_MS = 120_000;

/**
 * The distributed queue: one message per delivery on the `WEBHOOKS` work-queue stream (msgID = the
 * delivery id), taken by any node through the shared durable consumer; a retry is a `nak` with the
 * backoff delay, so the message waits in JetStream until its next attempt. A push that failed (NATS
 * down) or a message lost is repaired by a sweep that publishes again deliveries overdue by `overdueMs`.
 * Messages are hints: the attempt claims its delivery in the database, so a duplicate message never
 * makes a second attempt, and a delivery acknowledged is never sent again.
 */
export class JetStreamQueue implements DeliveryQueue {
  readonly name = 'jetstream' as const;
  private nc: NatsConnection | undefined;
  private consumers: DurableConsumer[] = [];
  private sweeper: NodeJS.Timeout | undefined;
  private stopped = false;
  private connecting: Promise<void> | undefined;

  constructor(
    private readonly servers: string[],
    private readonly store: Pick<WebhookStore, 'due'>,
    private readonly options: QueueOptions & {
      nodeName: string;
      /** Copies of the WEBHOOKS stream (NATS_STREAM_REPLICAS, as the pipeline's streams). */
      replicas: number;
      ackWaitMs: number;
      overdueMs: number;
      /** More durable consumers run on the same connection (the `MEDIA` outcomes feed). */
      feeds?: Array<{ consumer: Omit<DurableConsumerOptions, 'logger'>; handle: (m: DurableMessage) => Promise<Handled> }>;
    },
  ) {}

  async push(ids: string[]): Promise<void> {
    const nc = this.nc;
    if (!nc) return; // not connected yet: the overdue sweep publishes them
    await Promise.all(
      ids.map((id) =>
        publishOnce(nc, WEBHOOK_STREAM.subject, JSON.stringify({ id }), `${id}:0`).catch((err: Error) =>
          this.options.logger.warn('webhook delivery not queued; the sweep will', { deliveryId: id, err: err.message }),
        ),
      ),
    );
  }

  /** Connects in the background (retrying while NATS is down), then consumes. */
  async start(attempt: (id: string) => Promise<Handled>): Promise<void> {
    this.connecting = this.connectLoop(attempt);
  }

  private async connectLoop(attempt: (id: string) => Promise<Handled>): Promise<void> {
    const { logger } = this.options;
    while (!this.stopped) {
      try {
        const nc = await connectNats(this.servers, { name: `${this.options.nodeName}-webhooks`, logger });
        try {
          await ensureWorkQueueStream(nc, WEBHOOK_STREAM.name, [WEBHOOK_STREAM.subject], DUPLICATE_WINDOW_MS, this.options.replicas);
          const consumer = new DurableConsumer(nc, {
            stream: WEBHOOK_STREAM.name, consumer: WEBHOOK_STREAM.consumer, filterSubject: WEBHOOK_STREAM.subject,
            ackWaitMs: this.options.ackWaitMs, concurrency: this.options.concurrency, logger,
          });
          this.consumers.push(consumer);
          await consumer.start(async (m) => attempt((JSON.parse(m.data) as { id: string }).id));
          for (const feed of this.options.feeds ?? []) {
            const more = new DurableConsumer(nc, { ...feed.consumer, logger });
            this.consumers.push(more);
            await more.start(feed.handle);
          }
          this.nc = nc;
        } catch (err) {
          await Promise.all(this.consumers.map((c) => c.stop()));
          this.consumers = [];
          await nc.close().catch(() => undefined);
          throw err;
        }
        this.sweeper = setInterval(() => void this.sweep(), Math.max(1000, this.options.pollIntervalMs));
        this.sweeper.unref();
        return;
      } catch (err) {
        logger.warn('webhook queue: JetStream not reachable; retrying', { err: (err as Error).message });
        await new Promise((r) => setTimeout(r, 1000).unref());
      }
    }
  }

  /** Publishes again the deliveries overdue by more than `overdueMs` (their message was lost or never stored). */
  private async sweep(): Promise<void> {
    const nc = this.nc;
    if (!nc || this.stopped) return;
    try {
      const ids = await this.store.due(new Date(this.options.now().getTime() - this.options.overdueMs), 100);
      for (const id of ids) await publishOnce(nc, WEBHOOK_STREAM.subject, JSON.stringify({ id }), `${id}:sweep:${Math.floor(Date.now() / DUPLICATE_WINDOW_MS)}`);
    } catch (err) {
      this.options.logger.warn('webhook overdue sweep failed', { err: (err as Error).message });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweeper);
    await this.connecting;
    await Promise.all(this.consumers.map((c) => c.stop()));
    await this.nc?.drain().catch(() => undefined);
  }
}
