import type { UploadCompletedEvent } from './event.js';

/** Priority lanes, served in this order: a free worker always takes a `high` job first. */
export const LANES = ['high', 'normal'] as const;
export type Lane = (typeof LANES)[number];

/** One unit of work: one upload event for one processor kind. */
export interface Job {
  /** `<eventId>:<kind>`, unique per event and processor kind (also the dedup key). */
  readonly id: string;
  readonly kind: string;
  readonly lane: Lane;
  readonly event: UploadCompletedEvent;
  /** 1 on the first delivery; persisted across restarts and workers. */
  readonly deliveryCount: number;
  /** When the upload event became durable (outbox file written / JetStream message stored); for a retried job, when the operator retried it. */
  readonly persistedAt: Date;
  /** Put back on the queue by the operator after it was dead-lettered (its deliveries count from 1 again). */
  readonly retried?: boolean;
  /** Extends the lease: the job is not redelivered while heartbeats arrive within the ack wait. */
  working(): Promise<void>;
  /** Done: never delivered again. */
  ack(): Promise<void>;
  /** Deliver again after `delayMs` (to any worker). */
  retry(delayMs: number): Promise<void>;
  /** Never deliver again, and keep a dead-letter record saying why. */
  deadLetter(record: DeadLetterInfo): Promise<void>;
}

export interface DeadLetterInfo {
  code: string;
  reason: string;
}

/** The dead-letter record stored by a source (JetStream `deadletter.<kind>` or `dead/<id>.json`). */
export interface DeadLetterRecord extends DeadLetterInfo {
  version: 1;
  jobId: string;
  kind: string;
  /** The lane the job ran in (absent in records written before it was recorded: `normal`). */
  lane?: Lane;
  /** Delivery attempts made. */
  attempts: number;
  failedAt: string;
  /** The event, or the raw payload when it could not be parsed. */
  event: UploadCompletedEvent | string;
}

/**
 * Called once per new event and processor kind when the event is turned into a job (the source's
 * dispatch step). Returns the job's lane, or `null` when the kind does not run this event; it may
 * record status (queued / skipped). Throwing leaves the event to be dispatched again later.
 */
export type RouteFn = (event: UploadCompletedEvent, kind: string) => Promise<Lane | null>;

export interface PendingCount {
  kind: string;
  lane: Lane;
  /** Jobs waiting to start (not counting retries waiting for their backoff in JetStream). */
  count: number;
  /** Jobs delivered and not yet acknowledged, where the source knows (JetStream `num_ack_pending`). */
  unacked?: number;
}

export interface SourceStartOptions {
  /** Processor kinds this process runs (one durable consumer or queue per kind and lane). */
  kinds: string[];
  route: RouteFn;
  /** Delay before an event whose routing failed is tried again, by attempt (1, 2, …). */
  backoff(attempt: number): number;
}

/**
 * Where jobs come from. Implementations: {@link JetStreamSource} (NATS JetStream, shared by many
 * workers) and {@link DirectorySource} (the embedded `DATA_DIR/events` outbox).
 *
 * Both turn each upload event into one job per processor kind (dispatch), then hand jobs out per kind,
 * `high` lane first, with at-least-once delivery: a job that is not acked is delivered again.
 */
export interface JobSource {
  readonly name: 'jetstream' | 'directory' | 'schedule';
  /** Prepares durable state (consumers, directories), recovers abandoned jobs, starts dispatching. */
  start(options: SourceStartOptions): Promise<void>;
  /** The next job of `kind`, highest lane first; waits for one. Resolves `null` once stopping. */
  next(kind: string): Promise<Job | null>;
  /** Jobs waiting per kind and lane (for the `pending` gauge). */
  pending(): Promise<PendingCount[]>;
  /**
   * Every processor kind that will dispatch this source's events: this process's kinds, and on
   * JetStream also other workers' (the stream's durable `dispatch-<kind>` consumers). The runtime plans
   * them in the status, so the aggregate cannot look final before each kind has been dispatched.
   */
  dispatchingKinds(): Promise<string[]>;
  /** False while the source cannot deliver (for example NATS is disconnected). */
  ready(): boolean;
  /**
   * Stops dispatching and handing out jobs; `next()` resolves `null`. Jobs fetched but not handed out
   * are released for redelivery. Jobs already handed out can still be acked, retried, dead-lettered.
   */
  stop(): Promise<void>;
}
