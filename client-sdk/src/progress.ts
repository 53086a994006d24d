/**
 * Progress of one upload, as the SDK reports it.
 * @example
 * client.upload(file, { onProgress: (p) => (label.textContent = `${p.percent.toFixed(0)} % · ${(p.bytesPerSecond / 1e6).toFixed(1)} MB/s · ${p.etaSeconds ?? '?'} s left`) });
 */
export interface Progress {
  /** Bytes the server acknowledged or that are on their way (tus-js-client's count). */
  bytesUploaded: number;
  bytesTotal: number;
  /** 0..100 */
  percent: number;
  /** Bytes per second over the last few seconds (0 until measurable). */
  bytesPerSecond: number;
  /** Seconds left at the current speed, or null while unknown. */
  etaSeconds: number | null;
}

/** Speed is measured over this window. */
const WINDOW_MS = 3000;

/** Turns a series of byte counts into {@link Progress} with a speed over a sliding window. */
export class ProgressMeter {
  private samples: { at: number; bytes: number }[] = [];
  private last: Progress;

  constructor(total: number, private readonly now: () => number = () => performance.now()) {
    this.last = { bytesUploaded: 0, bytesTotal: total, percent: 0, bytesPerSecond: 0, etaSeconds: null };
  }

  /** The latest progress. */
  get current(): Progress {
    return this.last;
  }

  /** Records a count; returns the new progress. */
  update(bytes: number, total: number): Progress {
    const at = this.now();
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && at - this.samples[1]!.at > WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!;
    const elapsed = (at - first.at) / 1000;
    const speed = elapsed > 0.2 && bytes >= first.bytes ? (bytes - first.bytes) / elapsed : this.last.bytesPerSecond;
    const remaining = Math.max(0, total - bytes);
    this.last = {
      bytesUploaded: bytes,
      bytesTotal: total,
      percent: total > 0 ? Math.min(100, (bytes / total) * 100) : 100,
      bytesPerSecond: speed,
      etaSeconds: remaining === 0 ? 0 : speed > 0 ? remaining / speed : null,
    };
    return this.last;
  }

  /** Forgets the speed samples (after a pause, the speed starts again from zero). */
  restart(): void {
    this.samples = [];
    this.last = { ...this.last, bytesPerSecond: 0, etaSeconds: null };
  }
}
