import { nanos, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy, DeliverPolicy, DiscardPolicy, JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager, RetentionPolicy, StorageType,
  type Consumer, type JetStreamClient,
} from '@nats-io/jetstream';
import { sleep } from '../../common/waiters.js';
import type { Logger } from '../../logger.js';

/** What a handler decided about one message: acknowledged, or delivered again after a delay. */
export type Handled = { done: true } | { retryInMs: number };

/** One message as a handler sees it. */
export interface DurableMessage {
  subject: string;
  data: string;
  /** 1 on the first delivery. */
  deliveryCount: number;
}

export interface DurableConsumerOptions {
  stream: string;
  /** Durable consumer name, shared by every process that consumes the same way (each message goes to one). */
  consumer: string;
  filterSubject: string;
  /** A message not settled within this is delivered again (to any process). */
  ackWaitMs: number;
  /** Messages handled at once by this process. */
  concurrency: number;
  /**
   * Where a new consumer starts: every stored message (default), or those stored from this time on (a
   * process creating it names the time it started, so nothing published since is missed).
   */
  startTime?: Date;
  logger?: Logger;
}

const isApiError = (err: unknown, code: number) => err instanceof JetStreamApiError && err.code === code;

/**
 * Creates the work-queue stream `name` (file storage, `replicas` copies, each message removed once
 * acknowledged, a message id seen within `duplicateWindowMs` stored once) unless it exists; safe from
 * many processes at once.
 */
export async function ensureWorkQueueStream(nc: NatsConnection, name: string, subjects: string[], duplicateWindowMs: number, replicas = 1): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.info(name);
  } catch (err) {
    if (!isApiError(err, JetStreamApiCodes.StreamNotFound)) throw err;
    await jsm.streams
      .add({ name, subjects, retention: RetentionPolicy.Workqueue, storage: StorageType.File, discard: DiscardPolicy.Old, duplicate_window: nanos(duplicateWindowMs), num_replicas: replicas })
      .catch(async (addErr) => {
        // Another process created it in between.
        await jsm.streams.info(name).catch(() => {
          throw addErr;
        });
      });
  }
}

/**
 * A durable pull consumer handled by `concurrency` loops: each takes one message, runs the handler, and
 * acks it or naks it with the handler's delay (a handler that throws is retried after a second). On
 * `stop()` no new message is taken and the running handlers are awaited; a message never handed to a
 * handler stays with JetStream. At-least-once: a process that dies mid-message leaves it to another
 * after the ack wait.
 */
export class DurableConsumer {
  private stopped = false;
  private loops: Promise<void>[] = [];
  private readonly js: JetStreamClient;

  constructor(private readonly nc: NatsConnection, private readonly options: DurableConsumerOptions) {
    this.js = jetstream(nc);
  }

  /** Creates the consumer (or brings its ack wait up to date) and starts handling. */
  async start(handler: (message: DurableMessage) => Promise<Handled>): Promise<void> {
    const { stream, consumer, filterSubject, ackWaitMs } = this.options;
    const jsm = await jetstreamManager(this.nc);
    try {
      const info = await jsm.consumers.info(stream, consumer);
      if (info.config.ack_wait !== nanos(ackWaitMs)) await jsm.consumers.update(stream, consumer, { ack_wait: nanos(ackWaitMs) });
    } catch (err) {
      if (!isApiError(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
      await jsm.consumers
        .add(stream, {
          durable_name: consumer, filter_subject: filterSubject, ack_policy: AckPolicy.Explicit, ack_wait: nanos(ackWaitMs), max_deliver: -1,
          max_ack_pending: 10_000,
          ...(this.options.startTime
            ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: this.options.startTime.toISOString() }
            : { deliver_policy: DeliverPolicy.All }),
        })
        .catch(async (addErr) => {
          await jsm.consumers.info(stream, consumer).catch(() => {
            throw addErr;
          });
        });
    }
    this.loops = Array.from({ length: this.options.concurrency }, () => this.loop(handler));
  }

  private async loop(handler: (message: DurableMessage) => Promise<Handled>): Promise<void> {
    let consumer: Consumer | null = null;
    while (!this.stopped) {
      let m;
      try {
        consumer ??= await this.js.consumers.get(this.options.stream, this.options.consumer);
        m = await consumer.next({ expires: 1000 });
      } catch (err) {
        if (this.stopped) break;
        consumer = null;
        this.options.logger?.debug('pull failed; retrying', { consumer: this.options.consumer, err: (err as Error).message });
        await sleep(250);
        continue;
      }
      if (!m) continue;
      if (this.stopped) {
        m.nak();
        break;
      }
      let handled: Handled;
      try {
        handled = await handler({ subject: m.subject, data: m.string(), deliveryCount: m.info.deliveryCount });
      } catch (err) {
        this.options.logger?.warn('message handler failed; delivered again shortly', { consumer: this.options.consumer, err: (err as Error).message });
        handled = { retryInMs: 1000 };
      }
      if ('done' in handled) m.ack();
      else m.nak(Math.max(0, Math.round(handled.retryInMs)));
    }
  }

  /** Messages waiting for this consumer plus those delivered and not yet settled. */
  async pending(): Promise<number> {
    const info = await (await jetstreamManager(this.nc)).consumers.info(this.options.stream, this.options.consumer);
    return info.num_pending + info.num_ack_pending;
  }

  /** Stops taking messages and waits for the handlers running now. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled(this.loops);
  }
}

/** Publishes `data` on `subject`; resolves once JetStream stored it (a `msgID` seen within the stream's duplicate window is stored once). */
export async function publishOnce(nc: NatsConnection, subject: string, data: string, msgID: string): Promise<void> {
  await jetstream(nc).publish(subject, data, { msgID });
}

export type { NatsConnection };
