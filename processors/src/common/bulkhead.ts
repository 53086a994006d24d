/**
 * A bulkhead: at most `limit` calls of one kind run at once; the rest wait their turn in order. Each
 * kind of work (a processor kind, the OpenAI client, S3 part uploads) has its own, so one that is stuck
 * cannot take every slot from the others. `inUse` and `waiting` are reported through `onChange`.
 */
export class Bulkhead {
  private running = 0;
  private readonly queue: Array<() => void> = [];

  constructor(
    readonly name: string,
    readonly limit: number,
    private readonly onChange?: (bulkhead: Bulkhead) => void,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`bulkhead ${name}: limit must be a positive integer`);
  }

  /** Calls running now. */
  get inUse(): number {
    return this.running;
  }

  /** Calls waiting for a slot. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Runs `work` in a slot, waiting for one first; a wait ends early (rejects) when `signal` aborts. */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  private acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.running < this.limit) {
      this.running++;
      this.onChange?.(this);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        this.running++;
        this.onChange?.(this);
        resolve();
      };
      const onAbort = () => {
        const at = this.queue.indexOf(grant);
        if (at >= 0) this.queue.splice(at, 1);
        this.onChange?.(this);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(grant);
      this.onChange?.(this);
    });
  }

  private release(): void {
    this.running--;
    const next = this.queue.shift();
    if (next) next();
    else this.onChange?.(this);
  }
}
