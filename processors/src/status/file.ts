import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Listeners } from './listeners.js';
import { applyClaim, applyPlan, applyUpdate, type ProcessingStatus, type StatusClaim, type StatusListener, type StatusStore, type StatusUpdate } from './types.js';

export interface FileStatusStoreOptions {
  /** `prune` drops statuses unchanged for this long (`PROCESSOR_STATUS_TTL`, default 30 days). */
  ttlMs?: number;
  clock?: () => Date;
}

/**
 * Embedded {@link StatusStore}: one JSON file per upload, `<dir>/<uploadId>.json`, replaced atomically
 * (write temp file, rename). Updates and removal of one upload are serialized in this process;
 * subscribers are notified in this process (the embedded server runs the runtime in-process).
 */
export class FileStatusStore implements StatusStore {
  private readonly listeners = new Listeners();
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly ttlMs: number;
  private readonly clock: () => Date;

  constructor(
    private readonly dir: string,
    options: FileStatusStoreOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 30 * 86_400_000;
    this.clock = options.clock ?? (() => new Date());
  }

  private file(uploadId: string): string {
    return path.join(this.dir, `${encodeURIComponent(uploadId)}.json`);
  }

  async get(uploadId: string): Promise<ProcessingStatus | null> {
    try {
      return JSON.parse(await fs.readFile(this.file(uploadId), 'utf8')) as ProcessingStatus;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  update(update: StatusUpdate): Promise<ProcessingStatus> {
    return this.serialized(update.uploadId, async () => {
      const current = await this.get(update.uploadId);
      return (await this.store(applyUpdate(current, update, this.clock()))) ?? current!;
    });
  }

  plan(uploadId: string, eventId: string, kinds: readonly string[]): Promise<ProcessingStatus | null> {
    return this.serialized(uploadId, async () => {
      const current = await this.get(uploadId);
      return (await this.store(applyPlan(current, uploadId, eventId, kinds, this.clock()))) ?? current;
    });
  }

  claim(claim: StatusClaim): Promise<string[]> {
    return this.serialized(claim.uploadId, async () => {
      const { next, busy } = applyClaim(await this.get(claim.uploadId), claim, this.clock());
      await this.store(next);
      return busy;
    });
  }

  remove(uploadId: string): Promise<void> {
    return this.serialized(uploadId, () => fs.rm(this.file(uploadId), { force: true }));
  }

  /** Removes status files last written more than the TTL ago (their mtime). */
  async prune(): Promise<number> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    const oldest = this.clock().getTime() - this.ttlMs;
    let pruned = 0;
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      const uploadId = decodeURIComponent(name.slice(0, -5));
      const removed = await this.serialized(uploadId, async () => {
        const stat = await fs.stat(this.file(uploadId)).catch(() => null);
        if (!stat || stat.mtimeMs > oldest) return false;
        await fs.rm(this.file(uploadId), { force: true });
        return true;
      });
      if (removed) pruned++;
    }
    return pruned;
  }

  /** Runs `task` after every earlier task of the same upload (one upload's file has one writer at a time). */
  private serialized<T>(uploadId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(uploadId) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(task);
    this.chains.set(uploadId, run);
    void run.finally(() => {
      if (this.chains.get(uploadId) === run) this.chains.delete(uploadId);
    }).catch(() => undefined);
    return run;
  }

  /** Writes `next` (temp file, rename) and notifies; nothing when there is no change (null). */
  private async store(next: ProcessingStatus | null): Promise<ProcessingStatus | null> {
    if (!next) return null;
    await fs.mkdir(this.dir, { recursive: true });
    const file = this.file(next.uploadId);
    const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(next));
    await fs.rename(tmp, file);
    this.listeners.emit(next);
    return next;
  }

  async subscribe(uploadId: string, listener: StatusListener): Promise<() => Promise<void>> {
    return this.listeners.add(uploadId, listener);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.chains.values()]);
    this.listeners.clear();
  }
}
