/** Why an in-flight upload request was asked to stop. */
export type StopReason = 'lock-release' | 'shutdown';

interface InFlight {
  stop(reason: StopReason): void;
  done: Promise<void>;
}

/** The stop switch of one upload request: aborted by a lock release or by shutdown. */
export interface UploadStop {
  signal: AbortSignal;
  /** Why the request was stopped, if it was. */
  reason(): StopReason | undefined;
  /** Lock-release callback for the tus `Locker`: another request needs this upload. */
  release(): void;
  /** Call when the request ends, to stop tracking it. */
  end(): void;
}

/**
 * Readiness and in-flight upload requests. On shutdown, readiness turns false, new requests are
 * refused, in-flight uploads get a grace period and are then stopped (keeping their bytes).
 */
export class Lifecycle {
  private state: 'starting' | 'ready' | 'draining' = 'starting';
  private readonly inFlight = new Set<InFlight>();

  get ready(): boolean {
    return this.state === 'ready';
  }
  get draining(): boolean {
    return this.state === 'draining';
  }
  markReady(): void {
    if (this.state === 'starting') this.state = 'ready';
  }

  /** Registers an upload request; call the returned function when it ends. */
  track(stop: (reason: StopReason) => void): () => void {
    let end!: () => void;
    const entry: InFlight = { stop, done: new Promise<void>((r) => (end = r)) };
    this.inFlight.add(entry);
    return () => {
      this.inFlight.delete(entry);
      end();
    };
  }

  /** Tracks an upload request and returns its stop switch. */
  startUpload(): UploadStop {
    const controller = new AbortController();
    let reason: StopReason | undefined;
    const stop = (r: StopReason) => {
      reason ??= r;
      controller.abort();
    };
    const end = this.track(stop);
    return { signal: controller.signal, reason: () => reason, release: () => stop('lock-release'), end };
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * Refuses new work, waits up to `graceMs` for in-flight uploads, then stops the rest and waits for
   * them to write what they received.
   */
  async drain(graceMs: number): Promise<{ finished: number; stopped: number }> {
    this.state = 'draining';
    const before = this.inFlight.size;
    const all = () => Promise.all([...this.inFlight].map((f) => f.done));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all(), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    const stopped = this.inFlight.size;
    for (const f of this.inFlight) f.stop('shutdown');
    await all();
    return { finished: before - stopped, stopped };
  }
}
