import type { KvStore } from '@tus/server';
import type { Logger } from '../ops/logger.js';
import type { EventPublisher, UploadCompletedEvent } from '@tus-edge/processors';

export type OutboxStore = KvStore<UploadCompletedEvent> & { list(): Promise<string[]> };

export interface OutboxPublisherOptions {
  /** The broker (JetStream); may be unreachable for a while. */
  target: EventPublisher;
  /** Durable store of events not yet acknowledged by the target (Redis, or files under DATA_DIR). */
  outbox: OutboxStore;
  logger: Logger;
  /** A delivery attempt that takes longer counts as failed; the event stays in the outbox. */
  attemptTimeoutMs?: number;
  /** First retry delay; doubles up to `maxRetryMs` while the target keeps failing. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Every this often the whole outbox is flushed, picking up events other nodes left (e.g. a node killed mid-publish). */
  sweepMs?: number;
}

/**
 * "No event is lost": `publish` first records the event durably in the outbox, then tries the
 * target; it resolves once the event is in the outbox, so an upload never fails because the broker
 * is down. Acknowledged events leave the outbox; the rest are retried with backoff by every node
 * sharing the outbox (duplicates collapse: the event id is the broker's message id).
 */
export class OutboxPublisher implements EventPublisher {
  private readonly attemptTimeoutMs: number;
  private readonly minRetryMs: number;
  private readonly maxRetryMs: number;
  private retryMs: number;
  private timer: NodeJS.Timeout | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private flushing: Promise<number> | undefined;
  private stopped = false;

  constructor(private readonly options: OutboxPublisherOptions) {
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? 2000;
    this.minRetryMs = this.retryMs = options.retryMs ?? 500;
    this.maxRetryMs = options.maxRetryMs ?? 30_000;
  }

  async publish(event: UploadCompletedEvent): Promise<void> {
    await this.options.outbox.set(event.eventId, event);
    try {
      await this.deliver(event);
    } catch (err) {
      this.options.logger.warn('event kept in the outbox; broker unavailable', { eventId: event.eventId, err: (err as Error).message });
      this.schedule();
    }
  }

  /** Delivers every event waiting in the outbox; returns how many were delivered. */
  flush(): Promise<number> {
    return (this.flushing ??= (async () => {
      let delivered = 0;
      try {
        for (const id of await this.options.outbox.list()) {
          const event = await this.options.outbox.get(id);
          if (!event) continue;
          await this.deliver(event);
          delivered++;
        }
        this.retryMs = this.minRetryMs;
      } finally {
        this.flushing = undefined;
      }
      return delivered;
    })());
  }

  /** Delivers what an earlier run left in the outbox now, and what any node leaves from then on. */
  start(): void {
    if (this.stopped) return;
    this.schedule(0);
    this.sweeper = setInterval(() => this.schedule(0), this.options.sweepMs ?? 10_000);
    this.sweeper.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.sweeper);
  }

  private async deliver(event: UploadCompletedEvent): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no acknowledgement within ${this.attemptTimeoutMs} ms`)), this.attemptTimeoutMs);
    });
    try {
      await Promise.race([this.options.target.publish(event), timeout]);
    } finally {
      clearTimeout(timer);
    }
    await this.options.outbox.delete(event.eventId);
  }

  private schedule(delay = this.retryMs): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().then(
        (n) => n > 0 && this.options.logger.info('outbox delivered', { events: n }),
        (err: Error) => {
          this.retryMs = Math.min(this.maxRetryMs, this.retryMs * 2);
          this.options.logger.warn('outbox delivery failed; retrying', { inMs: this.retryMs, err: err.message });
          this.schedule();
        },
      );
    }, delay);
    this.timer.unref();
  }
}
