import fsp from 'node:fs/promises';
import path from 'node:path';

/** One change: an upload's durable watermark, or `null` to forget the upload (finished or removed). */
export type JournalEntry = [id: string, bytes: number | null];

/** Rewrite the journal once it holds this many lines more than live entries. */
const COMPACT_SLACK = 4096;

/**
 * An append-only log of durable watermarks (`<id> <bytes>` or `<id> -` per line) with group commit:
 * every {@link append} waiting while a commit runs goes into the next one, so many uploads cost one
 * `write` + `fdatasync` per commit. A line torn by a power cut is ignored when read. The log is
 * rewritten (temp file, fdatasync, rename, directory fsync) when it has grown well past its live entries.
 */
export class WatermarkJournal {
  /** The watermark of every upload the log tracks, as of the last commit. */
  readonly entries = new Map<string, number>();
  /** The last value appended per upload (committed or still queued): what the log will say once it lands. */
  private readonly appended = new Map<string, number>();
  private queued: JournalEntry[] = [];
  private waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  private committing = false;
  private lines = 0;

  constructor(private readonly file: string) {}

  /** Reads the log into {@link entries}; a missing log reads as empty. Returns whether it existed. */
  async load(): Promise<boolean> {
    let text: string;
    try {
      text = await fsp.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    this.entries.clear();
    const lines = text.split('\n');
    // The last element follows the last newline: empty, or a line torn by a crash.
    lines.pop();
    for (const line of lines) {
      const m = /^([A-Za-z0-9_-]{1,128}) (\d+|-)$/.exec(line);
      if (!m) continue;
      if (m[2] === '-') this.entries.delete(m[1]);
      else this.entries.set(m[1], Number(m[2]));
    }
    this.lines = lines.length;
    this.appended.clear();
    for (const [id, bytes] of this.entries) this.appended.set(id, bytes);
    return true;
  }

  /** Resolves once `entries` are durable in the log (and reflected in {@link entries}). */
  append(entries: JournalEntry[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    this.queued.push(...entries);
    for (const [id, bytes] of entries) {
      if (bytes === null) this.appended.delete(id);
      else this.appended.set(id, bytes);
    }
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    void this.commit();
    return done;
  }

  /**
   * The watermark the log gives `id` once every append so far has landed (undefined: not tracked).
   * Entries are applied in order, so this is the last one appended.
   */
  latest(id: string): number | undefined {
    return this.appended.get(id);
  }

  /** Changes entries in memory without logging them (recovery), to be followed by {@link rewrite}. */
  setUnlogged(id: string, bytes: number | null): void {
    if (bytes === null) {
      this.entries.delete(id);
      this.appended.delete(id);
    } else {
      this.entries.set(id, bytes);
      this.appended.set(id, bytes);
    }
  }

  /** Replaces the log by the live entries, durably. */
  async rewrite(): Promise<void> {
    const tmp = `${this.file}.tmp`;
    const text = [...this.entries].map(([id, bytes]) => `${id} ${bytes}\n`).join('');
    const fh = await fsp.open(tmp, 'w');
    try {
      await fh.writeFile(text);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, this.file);
    await syncDirectory(path.dirname(this.file));
    this.lines = this.entries.size;
  }

  private async commit(): Promise<void> {
    if (this.committing) return;
    this.committing = true;
    while (this.queued.length > 0) {
      const batch = this.queued;
      const waiters = this.waiters;
      this.queued = [];
      this.waiters = [];
      try {
        const fh = await fsp.open(this.file, 'a');
        try {
          await fh.writeFile(batch.map(([id, bytes]) => `${id} ${bytes ?? '-'}\n`).join(''));
          await fh.datasync();
        } finally {
          await fh.close();
        }
        for (const [id, bytes] of batch) {
          if (bytes === null) this.entries.delete(id);
          else this.entries.set(id, bytes);
        }
        this.lines += batch.length;
        if (this.lines > this.entries.size * 4 + COMPACT_SLACK) await this.rewrite();
        for (const w of waiters) w.resolve();
      } catch (err) {
        for (const w of waiters) w.reject(err as Error);
      }
    }
    this.committing = false;
  }
}

/** fsyncs a directory, so a rename or a new file in it survives a power cut. */
export async function syncDirectory(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
