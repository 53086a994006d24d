/**
 * A circuit breaker: after `failureThreshold` failures within `windowMs` it opens, and calls fail at
 * once with {@link CircuitOpenError} (carrying how long until the next try) instead of waiting for a
 * service that is down. After `openMs` it is half-open: one probe call goes through; its success
 * closes the breaker, its failure opens it again for another `openMs`.
 */
export type CircuitState = 'closed' | 'half-open' | 'open';

/** Numeric value of a state for the `*_circuit_state` gauges: 0 closed, 1 half-open, 2 open. */
export const CIRCUIT_STATE_VALUE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** How breakers trip and recover (`CIRCUIT_FAILURES`, `CIRCUIT_WINDOW`, `CIRCUIT_OPEN_FOR`). */
export interface BreakerSettings {
  /** Failures within the window that open the breaker (`CIRCUIT_FAILURES`, default 5). */
  failureThreshold: number;
  /** Failures older than this are forgotten (`CIRCUIT_WINDOW`, default 30s). */
  windowMs: number;
  /** How long an open breaker refuses calls before one probe is let through (`CIRCUIT_OPEN_FOR`, default 15s). */
  openMs: number;
}

export interface BreakerOptions extends BreakerSettings {
  /** The service guarded (`openai`, `s3`, …): the `service` label and part of error messages. */
  service: string;
  /** Called on every state change (metrics, logs). */
  onStateChange?(state: CircuitState, service: string): void;
  /** Clock in ms (tests). */
  now?: () => number;
}

/** Thrown by {@link CircuitBreaker.run} while the breaker is open (or half-open with a probe out). */
export class CircuitOpenError extends Error {
  override name = 'CircuitOpenError';
  constructor(
    readonly service: string,
    /** When a call may be tried again, in ms from now (at least 1). */
    readonly retryAfterMs: number,
  ) {
    super(`${service} circuit is open after repeated failures; next try in ${Math.ceil(retryAfterMs / 1000)} s`);
  }
}

/** One breaker per outside service; see the module comment for the rules. */
export class CircuitBreaker {
  readonly service: string;
  private failures: number[] = [];
  private openedAt: number | null = null;
  private probing = false;
  private reported: CircuitState = 'closed';
  private readonly now: () => number;

  constructor(private readonly options: BreakerOptions) {
    this.service = options.service;
    this.now = options.now ?? Date.now;
  }

  /** The state now (an open breaker whose time is up reads half-open). */
  state(): CircuitState {
    if (this.openedAt === null) return 'closed';
    return this.now() - this.openedAt >= this.options.openMs ? 'half-open' : 'open';
  }

  /** Ms until a call may go through again: 0 unless open (or half-open with its probe still out). */
  retryAfterMs(): number {
    if (this.openedAt === null) return 0;
    const left = this.openedAt + this.options.openMs - this.now();
    if (left > 0) return left;
    return this.probing ? Math.max(1, Math.min(1000, this.options.openMs)) : 0;
  }

  /**
   * Runs `work` unless the breaker refuses it. A rejection for which `counts(err)` is true is a failure
   * of the service (default: every rejection); others (a client's own mistake) pass through uncounted.
   */
  async run<T>(work: () => Promise<T>, counts: (err: unknown) => boolean = () => true): Promise<T> {
    const call = this.admit();
    let result: T;
    try {
      result = await work();
    } catch (err) {
      call.settle(counts(err));
      throw err;
    }
    call.settle(false);
    return result;
  }

  /**
   * The two halves of {@link run}, for calls that are not one promise (a Redis command settles through
   * its client's callbacks): throws {@link CircuitOpenError} when the breaker refuses the call; else
   * returns the admitted call, whose `settle(failed)` must be called once when it ends. With
   * `probe: false` a half-open breaker refuses the call rather than making it the probe (calls that
   * cannot end on their own, like one command of a pipeline whose others were refused).
   */
  admit(options: { probe?: boolean } = {}): { settle(failed: boolean): void } {
    const state = this.state();
    const probe = state === 'half-open';
    if (state === 'open' || (probe && (this.probing || options.probe === false))) {
      throw new CircuitOpenError(this.service, Math.max(1, this.retryAfterMs()));
    }
    if (probe) {
      this.probing = true;
      this.report();
    }
    let settled = false;
    return {
      settle: (failed) => {
        if (settled) return;
        settled = true;
        if (probe) this.probing = false;
        if (failed) this.failed();
        else this.succeeded(); // an answer, even a refusal, says the service is up
      },
    };
  }

  /** Resolves once a call may be tried (closed, or half-open without a probe out); rejects if `signal` aborts. */
  async whenAllowed(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const wait = this.retryAfterMs();
      if (wait <= 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, wait);
        function done() {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        }
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }

  private succeeded(): void {
    this.failures = [];
    this.openedAt = null;
    this.report();
  }

  private failed(): void {
    const now = this.now();
    if (this.openedAt !== null) {
      this.openedAt = now; // a failed probe: open for another period
    } else {
      this.failures = this.failures.filter((t) => now - t < this.options.windowMs);
      this.failures.push(now);
      if (this.failures.length >= this.options.failureThreshold) this.openedAt = now;
    }
    this.report();
  }

  private report(): void {
    const state = this.probing ? 'half-open' : this.state();
    if (state === this.reported) return;
    this.reported = state;
    this.options.onStateChange?.(state, this.service);
  }
}
