import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { syncDirectory, WatermarkJournal } from './journal.js';

/** Name of the watermark log inside the state directory. */
export const JOURNAL_NAME = 'watermarks.log';
/** Name of the file that says which boot of the machine last ran recovery here. */
export const BOOT_NAME = 'boot';
/** Where an earlier version kept both, inside the uploads directory. */
const LEGACY_NAMES = { journal: '.watermarks', boot: '.boot' } as const;
/**
 * fdatasync calls in flight at once. One: the disk takes one stream of writes best, and libuv has only
 * 4 threads, which the writes of every PATCH need too (4 long flushes at once stalled them all).
 */
const FLUSH_CONCURRENCY = 1;
/** A round starts as soon as this many bytes were written since the last one, without waiting for the timer. */
export const ROUND_BYTES = 16 * 1024 * 1024;

export interface BackgroundFlushOptions {
  /** The uploads directory: one file per upload, named by its id. */
  directory: string;
  /**
   * Where the watermark log and boot mark live (default: `directory`). Kept apart from the uploads so
   * that what a client can observe (the upload files) changes only when a request changes it.
   */
  stateDirectory?: string;
  /** Longest time written bytes wait for a flush. */
  intervalMs: number;
  /** The id of the running kernel's boot (`/proc/sys/kernel/random/boot_id`); tests pass their own. */
  bootId?: () => Promise<string | undefined>;
}

/** What {@link BackgroundFlush.recover} found and did. */
export interface RecoveryReport {
  /** `same-boot`: the page cache survived (a process crash), every byte in the files is kept. */
  boot: 'same-boot' | 'new-boot';
  /** Unfinished uploads cut back to their durable watermark (new boot only). */
  truncated: number;
  /** Unfinished uploads flushed and their watermark moved up to their size (same boot only). */
  flushed: number;
}

/**
 * Durability without a flush per PATCH, for the file storage.
 *
 * Writes land in the page cache and are acknowledged at once. A flush round fdatasyncs the files
 * written since the last round, one at a time, then commits their new sizes to a watermark log (one log
 * write and fdatasync per round for all uploads). A round starts `intervalMs` after the first unflushed
 * write, or at once when {@link ROUND_BYTES} were written since the last round: a large upload is
 * flushed while it arrives, so the flush before it is declared finished has little left to do. The log tracks unfinished uploads only: an upload
 * enters it when created (durably before its first byte is written) and leaves it when it is finished
 * (after its file was flushed) or removed.
 *
 * On start ({@link recover}): after a process crash on the same boot of the machine the page cache
 * still holds every byte a `write` returned for, so each tracked file is flushed and kept whole. After
 * a reboot (power loss), each tracked file is cut back to its watermark: bytes past it may never have
 * reached the disk (or read back as zeros), and a tus client resumes from the offset HEAD reports.
 * Files the log does not track (finished uploads, files of a server that flushed each PATCH) are left alone.
 */
export class BackgroundFlush {
  private readonly journal: WatermarkJournal;
  private readonly state: string;
  /** Highest written end per upload since its last flush. */
  private dirty = new Map<string, number>();
  /** Bytes written since the last round started (approximate: ends that moved up). */
  private dirtyBytes = 0;
  /** Uploads truncated, finished or removed while a flush round runs: that round records nothing for them. */
  private readonly changed = new Set<string>();
  /** Creation entries not yet durable: the first write waits for them. */
  private readonly creating = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;

  constructor(private readonly options: BackgroundFlushOptions) {
    this.state = options.stateDirectory ?? options.directory;
    this.journal = new WatermarkJournal(path.join(this.state, JOURNAL_NAME));
  }

  /** Brings the uploads directory to a consistent state after whatever stopped the last process. */
  async recover(): Promise<RecoveryReport> {
    const dir = this.options.directory;
    await fsp.mkdir(dir, { recursive: true });
    await fsp.mkdir(this.state, { recursive: true });
    await adoptLegacyFiles(dir, this.state);
    const hadJournal = await this.journal.load();
    const bootFile = path.join(this.state, BOOT_NAME);
    const lastBoot = await fsp.readFile(bootFile, 'utf8').then((s) => s.trim(), () => undefined);
    const boot = await (this.options.bootId ?? readBootId)();
    // No log yet: nothing was tracked, nothing to cut. A log without a readable boot: assume a reboot.
    const sameBoot = !hadJournal || (boot !== undefined && lastBoot === boot);
    const report: RecoveryReport = { boot: sameBoot ? 'same-boot' : 'new-boot', truncated: 0, flushed: 0 };
    const changes: Array<[string, number | null]> = [];
    await eachLimited([...this.journal.entries], FLUSH_CONCURRENCY, async ([id, watermark]) => {
      const file = path.join(dir, id);
      const size = await fsp.stat(file).then((s) => s.size, () => undefined);
      if (size === undefined) {
        // The log knew the upload but its file did not survive: an empty one lets the client start over.
        await fsp.writeFile(file, '', { flag: 'wx' }).catch(() => undefined);
        changes.push([id, 0]);
      } else if (size > watermark && !sameBoot) {
        await truncateDurably(file, watermark);
        report.truncated++;
      } else if (size !== watermark) {
        await datasyncFile(file);
        changes.push([id, size]);
        report.flushed++;
      }
    });
    for (const [id, bytes] of changes) this.journal.setUnlogged(id, bytes);
    await this.journal.rewrite();
    if (boot !== undefined) await writeDurably(bootFile, `${boot}\n`);
    else await fsp.rm(bootFile, { force: true });
    return report;
  }

  /** A new upload: tracked from now on (with watermark 0); its first write waits until that is durable. */
  created(id: string): void {
    const entry = this.journal.append([[id, 0]]);
    this.creating.set(id, entry);
    entry.then(
      () => this.creating.delete(id),
      () => undefined, // the first write sees the failure
    );
  }

  /** Resolves when `id` may be written to (its creation entry is durable). */
  async beforeWrite(id: string): Promise<void> {
    const entry = this.creating.get(id);
    if (entry) await entry;
  }

  /** Bytes up to `end` were written to `id` (the page cache has them); they are flushed within the interval. */
  wrote(id: string, end: number): void {
    const before = this.dirty.get(id) ?? this.journal.latest(id) ?? 0;
    if (end > before) this.dirtyBytes += end - before;
    if ((this.dirty.get(id) ?? -1) < end) this.dirty.set(id, end);
    this.schedule();
  }

  private schedule(): void {
    if (this.dirty.size === 0) return;
    if (this.dirtyBytes >= ROUND_BYTES && !this.round) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.flushRound();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flushRound();
    }, this.options.intervalMs).unref();
  }

  /**
   * `id` was cut back to `length` (an undone checksummed write). Only when the log may already give it
   * more than `length` is the watermark lowered, durably, before any new byte is written; otherwise the
   * log is left alone (bytes up to `length` are flushed by the next round, as any written byte).
   */
  async truncated(id: string, length: number): Promise<void> {
    const claimed = this.journal.latest(id);
    this.bump(id);
    if (claimed !== undefined && claimed > length) await this.journal.append([[id, length]]);
    else if (claimed !== undefined && claimed < length) this.wrote(id, length);
  }

  /** `id` is finished: flushes its file, then stops tracking it (durably), so a reboot never cuts it. */
  async finished(id: string, file: string): Promise<void> {
    await datasyncFile(file);
    // The file's name too (POSIX asks for it; on ext4 the data flush usually carries it already).
    await syncDirectory(this.options.directory);
    this.bump(id);
    if (this.journal.latest(id) !== undefined) await this.journal.append([[id, null]]);
  }

  /** `id` was deleted; forgetting it need not be durable (recovery skips a tracked file that is gone). */
  removed(id: string): void {
    this.bump(id);
    if (this.journal.latest(id) !== undefined) this.journal.append([[id, null]]).catch(() => undefined);
  }

  /** Flushes every written file now and commits their watermarks (also what the timer runs). */
  async flushRound(): Promise<void> {
    while (this.round) await this.round;
    if (this.dirty.size === 0) return;
    this.round = this.runRound().finally(() => {
      this.round = undefined;
      this.schedule(); // bytes written during the round: the next one, now or on the timer
    });
    return this.round;
  }

  private async runRound(): Promise<void> {
    const batch = this.dirty;
    this.dirty = new Map();
    this.dirtyBytes = 0;
    this.changed.clear();
    const flushed: Array<[string, number]> = [];
    await eachLimited([...batch], FLUSH_CONCURRENCY, async ([id, end]) => {
      try {
        await datasyncFile(path.join(this.options.directory, id));
        flushed.push([id, end]);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        if ((this.dirty.get(id) ?? -1) < end) this.dirty.set(id, end); // the next round tries again
      }
    });
    // Decided and queued in one synchronous step: an upload truncated, finished or removed during the
    // round has its own entry (queued by then, or queued after these and so winning); an upload that
    // left the log gets no watermark back.
    const entries = flushed.filter(([id]) => !this.changed.has(id) && this.journal.latest(id) !== undefined);
    this.changed.clear();
    await this.journal.append(entries).catch(() => {
      for (const [id, end] of entries) if ((this.dirty.get(id) ?? -1) < end) this.dirty.set(id, end);
    });
  }

  private bump(id: string): void {
    this.dirty.delete(id);
    if (this.round) this.changed.add(id);
  }
}

async function readBootId(): Promise<string | undefined> {
  return fsp.readFile('/proc/sys/kernel/random/boot_id', 'utf8').then((s) => s.trim() || undefined, () => undefined);
}

async function datasyncFile(file: string): Promise<void> {
  const fh = await fsp.open(file, 'r+');
  try {
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

async function truncateDurably(file: string, length: number): Promise<void> {
  const fh = await fsp.open(file, 'r+');
  try {
    await fh.truncate(length);
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

async function writeDurably(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await fsp.open(tmp, 'w');
  try {
    await fh.writeFile(text);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, file);
  await syncDirectory(path.dirname(file));
}

async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Moves a log and boot mark an earlier version kept in the uploads directory to the state directory. */
async function adoptLegacyFiles(directory: string, state: string): Promise<void> {
  if (directory === state) return;
  const legacy = path.join(directory, LEGACY_NAMES.journal);
  if (!fs.existsSync(legacy)) return;
  if (!fs.existsSync(path.join(state, JOURNAL_NAME))) {
    await fsp.rename(legacy, path.join(state, JOURNAL_NAME));
    await fsp.rename(path.join(directory, LEGACY_NAMES.boot), path.join(state, BOOT_NAME)).catch(() => undefined);
    await syncDirectory(state);
  }
  for (const name of Object.values(LEGACY_NAMES)) await fsp.rm(path.join(directory, name), { force: true });
  await syncDirectory(directory);
}

/**
 * Removes the watermark log and boot mark (and those an earlier version kept in `directory`): a storage
 * that flushes each write (or never) tracks nothing, and a stale log would cut finished uploads.
 */
export function forgetTracking(directory: string, stateDirectory = directory): void {
  for (const name of [JOURNAL_NAME, BOOT_NAME]) fs.rmSync(path.join(stateDirectory, name), { force: true });
  for (const name of Object.values(LEGACY_NAMES)) fs.rmSync(path.join(directory, name), { force: true });
}
