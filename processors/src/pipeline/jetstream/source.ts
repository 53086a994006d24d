import { jetstream, jetstreamManager, type Consumer, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { parseUploadCompletedEvent, type UploadCompletedEvent } from '../event.js';
import { LANES, type DeadLetterInfo, type DeadLetterRecord, type Job, type JobSource, type Lane, type PendingCount, type SourceStartOptions } from '../job-source.js';
import { sleep, Waiters } from '../../common/waiters.js';
import type { Logger } from '../../logger.js';
import { dispatchConsumer, ensureConsumer, jobConsumer, STREAMS, SUBJECTS } from './streams.js';

export interface JetStreamSourceOptions {
  /** Redelivery after this long without ack or heartbeat (consumer `ack_wait`). */
  ackWaitMs: number;
  /**
   * Attempts that run a processor; the consumer's `max_deliver` is one more (see {@link Job}).
   * `Infinity`: no limit on the consumer (the runtime counts attempts itself, postponed deliveries apart).
   */
  maxDeliver: number;
  logger: Logger;
  /** How long one pull request waits on the server (at least 1000 ms; default 10 s). */
  fetchExpiresMs?: number;
}

/** Payload of a `jobs.<kind>.<lane>` message. */
interface JobPayload {
  version: 1;
  event: UploadCompletedEvent;
  /** When the `uploads.completed` message was stored (for a retried job: when it was retried). */
  persistedAt: string;
  /** Put back by the operator after a dead letter (see admin.ts). */
  retried?: boolean;
}

interface LaneState {
  consumer: string;
  /** At most one fetched message per lane waits for a free worker (prefetch = 1). */
  held: JsMsg | null;
  taken: Waiters;
}

/**
 * {@link JobSource} over NATS JetStream (server 2.9+).
 *
 * Dispatch: each processor kind has a durable consumer `dispatch-<kind>` on `uploads.completed` (so
 * every kind sees every event, whatever other kinds the workers run); for each event it asks the route
 * and publishes `jobs.<kind>.<lane>` with msgID `<eventId>:<kind>` (a redispatched or duplicated event
 * makes no second job inside the duplicate window), then acks.
 *
 * Jobs: each kind and lane has its own durable pull consumer on the `JOBS` work-queue stream, shared by
 * every worker of that kind, so workers split the load. Each lane keeps at most one fetched message in
 * hand; a free worker takes `high` before `normal`. Held messages are heartbeated so they are not
 * redelivered while waiting. The consumer's `max_deliver` is `maxDeliver + 1`: the extra delivery is
 * only used to dead-letter a job whose every attempt died without an outcome (a crashing worker).
 */
export class JetStreamSource implements JobSource {
  readonly name = 'jetstream';
  private js!: JetStreamClient;
  private jsm!: JetStreamManager;
  private stopped = false;
  private connected = true;
  private readonly lanes = new Map<string, Record<Lane, LaneState>>();
  /** The kinds of the stream's dispatch consumers, as last listed. */
  private deployed: { at: number; kinds: string[] } = { at: 0, kinds: [] };
  private readonly arrivals = new Map<string, Waiters>();
  private readonly fetches = new Set<ConsumerMessages>();
  private readonly loops: Promise<void>[] = [];
  private heartbeat?: NodeJS.Timeout;
  private readonly fetchExpiresMs: number;

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: JetStreamSourceOptions,
  ) {
    this.fetchExpiresMs = Math.max(1000, options.fetchExpiresMs ?? 10_000);
  }

  async start({ kinds, route, backoff }: SourceStartOptions): Promise<void> {
    this.jsm = await jetstreamManager(this.nc);
    this.js = jetstream(this.nc);
    const { ackWaitMs, maxDeliver } = this.options;
    for (const kind of kinds) {
      await ensureConsumer(this.jsm, STREAMS.uploads.name, dispatchConsumer(kind), SUBJECTS.uploadCompleted, { ackWaitMs, maxDeliver: -1 });
      const lanes = {} as Record<Lane, LaneState>;
      for (const lane of LANES) {
        const consumer = jobConsumer(kind, lane);
        await ensureConsumer(this.jsm, STREAMS.jobs.name, consumer, SUBJECTS.job(kind, lane), { ackWaitMs, maxDeliver: Number.isFinite(maxDeliver) ? maxDeliver + 1 : -1 });
        lanes[lane] = { consumer, held: null, taken: new Waiters() };
      }
      this.lanes.set(kind, lanes);
      this.arrivals.set(kind, new Waiters());
    }
    this.watchConnection();
    for (const [kind, lanes] of this.lanes) {
      this.loops.push(this.pullLoop(STREAMS.uploads.name, dispatchConsumer(kind), 16, async () => true, (m) => this.dispatch(m, kind, route, backoff)));
      for (const lane of LANES) {
        const state = lanes[lane];
        const hasRoom = async () => {
          while (state.held && !this.stopped) await state.taken.wait();
          return !this.stopped;
        };
        this.loops.push(
          this.pullLoop(STREAMS.jobs.name, state.consumer, 1, hasRoom, (m) => {
            if (this.stopped) return m.nak();
            state.held = m;
            this.arrivals.get(kind)!.wakeAll();
          }),
        );
      }
    }
    this.heartbeat = setInterval(() => {
      for (const lanes of this.lanes.values()) for (const lane of LANES) lanes[lane].held?.working();
    }, Math.max(100, Math.floor(ackWaitMs / 3)));
  }

  /** Fetches from a durable consumer while `hasRoom()`; re-issues the pull after errors and reconnects. */
  private async pullLoop(stream: string, consumerName: string, batch: number, hasRoom: () => Promise<boolean>, onMessage: (m: JsMsg) => unknown): Promise<void> {
    let consumer: Consumer | null = null;
    while (!this.stopped) {
      try {
        if (!(await hasRoom())) break;
        consumer ??= await this.js.consumers.get(stream, consumerName);
        const messages = await consumer.fetch({ max_messages: batch, expires: this.fetchExpiresMs });
        this.fetches.add(messages);
        try {
          for await (const m of messages) await onMessage(m);
        } finally {
          this.fetches.delete(messages);
        }
      } catch (err) {
        if (this.stopped) break;
        consumer = null;
        this.options.logger.debug('pull failed; retrying', { consumer: consumerName, err: (err as Error).message });
        await sleep(250);
      }
    }
  }

  private async dispatch(m: JsMsg, kind: string, route: SourceStartOptions['route'], backoff: SourceStartOptions['backoff']): Promise<void> {
    let event: UploadCompletedEvent;
    try {
      event = parseUploadCompletedEvent(m.json());
    } catch (err) {
      await this.publishDeadLetter('dispatch', { code: 'INVALID_EVENT', reason: (err as Error).message }, `seq-${m.seq}`, m.info.deliveryCount, m.string())
        .then(() => m.term())
        .catch(() => m.nak(backoff(m.info.deliveryCount)));
      return;
    }
    try {
      const lane = await route(event, kind);
      if (lane) {
        const payload: JobPayload = { version: 1, event, persistedAt: m.time.toISOString() };
        await this.js.publish(SUBJECTS.job(kind, lane), JSON.stringify(payload), { msgID: `${event.eventId}:${kind}` });
      }
      m.ack();
    } catch (err) {
      this.options.logger.warn('dispatch failed; will retry', { eventId: event.eventId, err: (err as Error).message });
      m.nak(backoff(m.info.deliveryCount));
    }
  }

  /** This process's kinds and the kinds of every `dispatch-<kind>` consumer on the stream (listed at most every 10 s). */
  async dispatchingKinds(): Promise<string[]> {
    const own = [...this.lanes.keys()];
    if (Date.now() - this.deployed.at > 10_000) {
      try {
        const names: string[] = [];
        for await (const info of this.jsm.consumers.list(STREAMS.uploads.name)) names.push(info.name);
        const prefix = dispatchConsumer('');
        this.deployed = { at: Date.now(), kinds: names.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length)) };
      } catch (err) {
        this.options.logger.warn('listing dispatch consumers failed; planning known kinds only', { err: (err as Error).message });
      }
    }
    return [...new Set([...own, ...this.deployed.kinds])];
  }

  async next(kind: string): Promise<Job | null> {
    const lanes = this.lanes.get(kind);
    if (!lanes) throw new Error(`no consumer for processor kind "${kind}"`);
    for (;;) {
      if (this.stopped) return null;
      for (const lane of LANES) {
        const m = lanes[lane].held;
        if (!m) continue;
        lanes[lane].held = null;
        lanes[lane].taken.wakeAll();
        const job = await this.toJob(kind, lane, m);
        if (job) return job;
      }
      await this.arrivals.get(kind)!.wait();
    }
  }

  private async toJob(kind: string, lane: Lane, m: JsMsg): Promise<Job | null> {
    let payload: JobPayload;
    try {
      payload = m.json<JobPayload>();
      parseUploadCompletedEvent(payload.event);
    } catch (err) {
      await this.publishDeadLetter(kind, { code: 'INVALID_EVENT', reason: (err as Error).message }, `seq-${m.seq}`, m.info.deliveryCount, m.string()).catch(() => undefined);
      m.term();
      return null;
    }
    const { event } = payload;
    const id = `${event.eventId}:${kind}`;
    return {
      id,
      kind,
      lane,
      event,
      deliveryCount: m.info.deliveryCount,
      persistedAt: new Date(payload.persistedAt),
      retried: payload.retried === true,
      working: async () => m.working(),
      ack: async () => {
        await m.ackAck({ timeout: 5000 });
      },
      retry: async (delayMs) => m.nak(delayMs),
      deadLetter: async (info) => {
        await this.publishDeadLetter(kind, info, id, m.info.deliveryCount, event, { lane, seq: m.seq });
        m.term();
      },
    };
  }

  /**
   * Stores the dead-letter record, deduplicated per job message (`job.seq`): the same message
   * dead-lettered twice is one record, while a job the operator retried (a new message) that fails
   * again makes a new one.
   */
  private async publishDeadLetter(kind: string, info: DeadLetterInfo, jobId: string, attempts: number, event: UploadCompletedEvent | string, job?: { lane: Lane; seq: number }): Promise<void> {
    const record: DeadLetterRecord = { version: 1, jobId, kind, lane: job?.lane, attempts, failedAt: new Date().toISOString(), event, ...info };
    await this.js.publish(SUBJECTS.deadLetter(kind), JSON.stringify(record), { msgID: job ? `${jobId}:dead:${job.seq}` : `${jobId}:dead` });
  }

  async pending(): Promise<PendingCount[]> {
    const counts: PendingCount[] = [];
    for (const [kind, lanes] of this.lanes) {
      for (const lane of LANES) {
        const info = await this.jsm.consumers.info(STREAMS.jobs.name, lanes[lane].consumer);
        const held = lanes[lane].held ? 1 : 0;
        // A message held here for the next free worker is delivered (ack pending) but has not started.
        counts.push({ kind, lane, count: info.num_pending + held, unacked: Math.max(0, info.num_ack_pending - held) });
      }
    }
    return counts;
  }

  ready(): boolean {
    return this.connected && !this.stopped && !this.nc.isClosed();
  }

  /** After a reconnect the server may have forgotten our pull requests: re-issue them. */
  private watchConnection(): void {
    void (async () => {
      for await (const s of this.nc.status()) {
        if (s.type === 'disconnect') this.connected = false;
        if (s.type === 'reconnect') {
          this.connected = true;
          for (const f of this.fetches) void f.close();
        }
      }
    })().catch(() => undefined);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.heartbeat);
    for (const f of this.fetches) void f.close();
    for (const lanes of this.lanes.values()) {
      for (const lane of LANES) {
        lanes[lane].held?.nak();
        lanes[lane].held = null;
        lanes[lane].taken.wakeAll();
      }
    }
    for (const w of this.arrivals.values()) w.wakeAll();
    await Promise.race([Promise.allSettled(this.loops), sleep(500)]);
  }
}
