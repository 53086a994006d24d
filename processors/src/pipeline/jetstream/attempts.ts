import { jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { parseJobAttempt, type AttemptRecorder, type JobAttempt } from '../attempts.js';
import type { Logger } from '../../logger.js';
import type { StreamSettings } from '../../config/config.js';
import { connectNats } from './connect.js';
import { ATTEMPTS_CONSUMER, ensureConsumer, ensureStreams, STREAMS, SUBJECTS } from './streams.js';

/**
 * A separate worker's {@link AttemptRecorder}: publishes each attempt on `analytics.attempts`
 * (msgID = attempt id, so a republished attempt is stored once) and resolves once JetStream stored it.
 */
export class JetStreamAttemptPublisher implements AttemptRecorder {
  constructor(private readonly js: JetStreamClient) {}

  async record(attempt: JobAttempt): Promise<void> {
    await this.js.publish(SUBJECTS.attempts, JSON.stringify(attempt), { msgID: attempt.id });
  }
}

export interface AttemptConsumerOptions {
  /** Writes a batch of attempts (idempotently: a batch may come again after a crash). */
  write(batch: JobAttempt[]): Promise<void>;
  logger: Logger;
  /** Most attempts fetched and written at once (default 200). */
  batch?: number;
  /** Redelivery after this long without ack (default 30 s). */
  ackWaitMs?: number;
  /** A batch whose write failed comes back after this long (default 5 s). */
  retryDelayMs?: number;
}

/**
 * The server side of the pipeline's attempt records: pulls `analytics.attempts` from the durable
 * consumer `analytics-history` (shared by every node) in batches, writes each batch, then acks it; a
 * batch whose write failed is redelivered after a delay. Malformed records are acked and dropped.
 */
export class JetStreamAttemptConsumer {
  private stopped = false;
  private current: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly nc: NatsConnection, private readonly options: AttemptConsumerOptions) {}

  /** Creates the consumer (idempotent) and starts pulling in the background. */
  async start(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    await ensureConsumer(jsm, STREAMS.analytics.name, ATTEMPTS_CONSUMER, SUBJECTS.attempts, {
      ackWaitMs: this.options.ackWaitMs ?? 30_000, maxDeliver: -1, maxAckPending: 10_000,
    });
    this.loop = this.pull();
  }

  private async pull(): Promise<void> {
    const size = this.options.batch ?? 200;
    const consumer = await jetstream(this.nc).consumers.get(STREAMS.analytics.name, ATTEMPTS_CONSUMER);
    while (!this.stopped) {
      try {
        const messages = await consumer.fetch({ max_messages: size, expires: 2000 });
        this.current = messages;
        const batch: Array<{ msg: JsMsg; attempt: JobAttempt | null }> = [];
        for await (const msg of messages) {
          let attempt: JobAttempt | null = null;
          try {
            attempt = parseJobAttempt(msg.json());
          } catch {
            this.options.logger.warn('malformed job attempt record dropped', { seq: msg.seq });
          }
          batch.push({ msg, attempt });
        }
        if (batch.length === 0) continue;
        try {
          await this.options.write(batch.flatMap((b) => (b.attempt ? [b.attempt] : [])));
          for (const b of batch) b.msg.ack();
        } catch (err) {
          this.options.logger.warn('job attempts not written; redelivered later', { count: batch.length, err: (err as Error).message });
          for (const b of batch) b.msg.nak(this.options.retryDelayMs ?? 5000);
        }
      } catch (err) {
        if (this.stopped) return;
        this.options.logger.debug('attempt pull failed; retrying', { err: (err as Error).message });
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
      }
    }
  }

  /** Stops pulling; the batch in hand is written and acked first. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.stop();
    await this.loop?.catch(() => undefined);
  }
}

/**
 * Connects to `servers` in the background (retrying every second while NATS is unreachable), makes
 * sure the streams exist, and runs a {@link JetStreamAttemptConsumer}. For the server, which starts
 * whether or not NATS is up.
 */
export function consumeAttempts(servers: string[], streams: StreamSettings, options: AttemptConsumerOptions & { name: string }): { stop(): Promise<void> } {
  let stopped = false;
  let nc: NatsConnection | undefined;
  let consumer: JetStreamAttemptConsumer | undefined;
  const connecting = (async () => {
    while (!stopped) {
      try {
        const connection = await connectNats(servers, { name: options.name, logger: options.logger });
        nc = connection;
        if (stopped) return;
        await ensureStreams(await jetstreamManager(connection), streams, options.logger);
        consumer = new JetStreamAttemptConsumer(connection, options);
        await consumer.start();
        return;
      } catch (err) {
        options.logger.warn('job attempts consumer not started; retrying', { err: (err as Error).message });
        await nc?.close().catch(() => undefined);
        nc = undefined;
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
      }
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await connecting;
      await consumer?.stop();
      await nc?.drain().catch(() => undefined);
    },
  };
}
