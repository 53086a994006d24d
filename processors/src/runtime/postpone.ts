import type { ProcessingError } from '../errors.js';

/**
 * Deliveries that ended on an outside service's transient failure (OpenAI 429/5xx/timeouts, S3 or
 * Redis unavailable: the catalogue's `outside` errors) are postponed, not spent: the job goes back to
 * its queue with a delay (JetStream `nak(delay)`, the directory queue's not-before time) and the
 * delivery does not count as an attempt toward `PROCESSOR_MAX_DELIVER` and the dead-letter queue, up to
 * `PROCESSOR_MAX_POSTPONES` times per job. Past that bound a failure counts like any other, so a
 * service that keeps failing now and then still ends in the dead-letter queue. While the service's
 * circuit breaker is open (the failure opened it, or was its failed probe) the bound does not apply:
 * an outage spends nothing, as jobs waiting for an open breaker in place spend nothing.
 *
 * The count is kept in the job's status (`postponed`, so any worker sees it) and in this process (for
 * when the status itself is what cannot be written, Redis being down); the larger one holds.
 */
export class Postponements {
  private readonly here = new Map<string, number>();

  constructor(
    /** `PROCESSOR_MAX_POSTPONES`. */
    readonly max: number,
    /** Delay before the n-th postponed try (1, 2, …) when the error does not say when. */
    private readonly backoff: (n: number) => number,
    /** Whether the breaker of the service that failed with `err` is open (or half-open) now. */
    private readonly breakerOpen: (err: ProcessingError) => boolean = () => false,
  ) {}

  /** Postponements of `jobId` so far: the larger of what its status recorded and what this process saw. */
  count(jobId: string, recorded: number | undefined): number {
    return Math.max(recorded ?? 0, this.here.get(jobId) ?? 0);
  }

  /**
   * When a delivery that failed with `err` is postponed: the delay, else null (the failure counts).
   * Records the new count here; the caller records it in the status too.
   */
  postpone(jobId: string, err: ProcessingError, count: number): number | null {
    if (!err.outside || (count >= this.max && !this.breakerOpen(err))) return null;
    this.here.set(jobId, count + 1);
    return err.retryAfterMs ?? this.backoff(count + 1);
  }

  /**
   * A redelivery that found the job's lease still held (its previous delivery still runs, or ended
   * while Redis was unreachable and could not release it) is no attempt either, and not bounded: the
   * lease runs out by itself.
   */
  leaseHeld(jobId: string): void {
    this.here.set(jobId, (this.here.get(jobId) ?? 0) + 1);
  }

  /** The job is settled (done, skipped, failed): nothing to remember. */
  forget(jobId: string): void {
    this.here.delete(jobId);
  }
}
