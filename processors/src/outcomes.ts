import type { JetStreamClient } from '@nats-io/jetstream';
import { SUBJECTS } from './pipeline/jetstream/streams.js';
import type { ProcessingStatus } from './status/types.js';

/**
 * Outcome of one job, published as `media.processed` or `media.failed` on the `MEDIA` stream
 * (distributed mode). `id` is `<eventId>:<kind>` and is also the JetStream msgID, so republishing an
 * outcome (after a crash between recording and acknowledging) is stored once.
 */
export interface MediaOutcome {
  event: 'media.processed' | 'media.failed';
  id: string;
  timestamp: string;
  data: {
    mediaId: string;
    processingType: string;
    status: 'done' | 'failed';
    outputLocation: string | null;
    metrics: { processingTimeMs: number; outputSizeBytes: number };
    /** For `media.failed`: `CODE: message`. */
    reason?: string;
    /** For `media.failed`: the error catalogue code alone (optional; older outcomes carry it only in `reason`). */
    code?: string;
    /** The inline result (for fingerprint: sha256, mime, …). */
    result?: Record<string, unknown>;
  };
}

/** Where outcomes go. One method: NATS ({@link JetStreamOutcomePublisher}). */
export interface OutcomePublisher {
  publish(outcome: MediaOutcome): Promise<void>;
}

/** Builds the outcome of `kind` from a status whose job is done or failed; null otherwise. */
export function outcomeOf(status: ProcessingStatus, kind: string): MediaOutcome | null {
  const job = status.jobs[kind];
  if (!job || (job.state !== 'done' && job.state !== 'failed')) return null;
  const done = job.state === 'done';
  return {
    event: done ? 'media.processed' : 'media.failed',
    id: `${status.eventId}:${kind}`,
    timestamp: job.finishedAt ?? job.updatedAt,
    data: {
      mediaId: status.uploadId,
      processingType: kind,
      status: job.state,
      outputLocation: job.outputLocation ?? null,
      metrics: { processingTimeMs: job.processingTimeMs ?? 0, outputSizeBytes: job.outputSizeBytes ?? 0 },
      ...(done ? { result: job.result } : { reason: job.reason, ...(job.code && { code: job.code }) }),
    },
  };
}

/** Publishes job outcomes on `media.processed` / `media.failed` with msgID = outcome id. */
export class JetStreamOutcomePublisher implements OutcomePublisher {
  constructor(private readonly js: JetStreamClient) {}

  async publish(outcome: MediaOutcome): Promise<void> {
    const subject = outcome.event === 'media.processed' ? SUBJECTS.mediaProcessed : SUBJECTS.mediaFailed;
    await this.js.publish(subject, JSON.stringify(outcome), { msgID: outcome.id });
  }
}
