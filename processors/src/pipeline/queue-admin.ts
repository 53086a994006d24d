import type { UploadCompletedEvent } from './event.js';
import type { DeadLetterRecord, Lane } from './job-source.js';

/** Jobs of one processor kind and lane, as the queue sees them now. */
export interface QueueDepth {
  kind: string;
  lane: Lane;
  /** Jobs waiting to start (retries waiting for their backoff included where the queue keeps them apart). */
  waiting: number;
  /**
   * Jobs handed to a worker and not settled: running, or held by a worker for its next free slot
   * (JetStream `num_ack_pending`; the directory queue's `processing/`).
   */
  inFlight: number;
}

/** A dead letter as the operator sees it: the record a source stored, with its id and retry mark. */
export interface DeadLetter {
  /** Stable id for {@link QueueAdmin.requeue} (the directory queue: `<eventId>~<kind>`; JetStream: the record's sequence). */
  id: string;
  jobId: string;
  kind: string;
  lane: Lane;
  /** The upload the job was for; null when the event itself could not be read. */
  uploadId: string | null;
  code: string;
  reason: string;
  attempts: number;
  failedAt: string;
  /** When the operator put the job back on its queue; null until then. */
  retriedAt: string | null;
  /** The event to run again; null when the record holds an unreadable payload (it cannot be retried). */
  event: UploadCompletedEvent | null;
}

export interface DeadLetterPage {
  /** Newest first. */
  items: DeadLetter[];
  /** Pass back as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** What {@link QueueAdmin.requeue} did. */
export type RequeueOutcome = 'retried' | 'already-retried' | 'not-found' | 'not-retryable';

/**
 * The operator's view of a job queue: depth, dead letters, and putting a dead letter's job back.
 * Implementations: {@link DirectoryQueueAdmin} (the embedded `DATA_DIR/events` queue) and
 * {@link JetStreamQueueAdmin} (the `JOBS` and `DEADLETTER` streams); both pass `queue-admin.contract.ts`.
 */
export interface QueueAdmin {
  readonly name: 'directory' | 'jetstream';
  /** Waiting and in-flight jobs per kind and lane (kinds that have or had a queue). */
  depth(): Promise<QueueDepth[]>;
  /** A page of dead letters, newest first; `cursor` from the previous page. */
  deadLetters(options: { cursor?: string; limit: number }): Promise<DeadLetterPage>;
  /** One dead letter, or null (unknown or malformed id). */
  deadLetter(id: string): Promise<DeadLetter | null>;
  /**
   * Puts the dead letter's job back on its kind's queue (its lane), once, and marks the dead letter
   * retried. A dead letter already retried is left as it is (`already-retried`): calling twice queues
   * the job once. A job that fails again makes a new dead letter that is not marked.
   */
  requeue(id: string): Promise<RequeueOutcome>;
}

/** Raised by an implementation whose backing service cannot be reached (the server answers 503). */
export class QueueUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueueUnavailableError';
  }
}

/** The lane a record names, `normal` for records written before lanes were recorded. */
export const laneOf = (record: Pick<DeadLetterRecord, 'lane'>): Lane => (record.lane === 'high' ? 'high' : 'normal');

/** A {@link DeadLetter} from a stored record. */
export function toDeadLetter(id: string, record: DeadLetterRecord, retriedAt: string | null): DeadLetter {
  const event = typeof record.event === 'string' ? null : record.event;
  return {
    id,
    jobId: record.jobId,
    kind: record.kind,
    lane: laneOf(record),
    uploadId: event?.uploadId ?? null,
    code: record.code,
    reason: record.reason,
    attempts: record.attempts,
    failedAt: record.failedAt,
    retriedAt,
    event,
  };
}
