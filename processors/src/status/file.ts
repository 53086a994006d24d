import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Listeners } from './listeners.js';
import { applyUpdate, type ProcessingStatus, type StatusListener, type StatusStore, type StatusUpdate } from './types.js';

/**
 * Embedded {@link StatusStore}: one JSON file per upload, `<dir>/<uploadId>.json`, replaced atomically
 * (write temp file, rename). Updates of one upload are serialized in this process; subscribers are
 * notified in this process (the embedded server runs the runtime in-process).
 */
export class FileStatusStore implements StatusStore {
  private readonly listeners = new Listeners();
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    private readonly dir: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

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
    const previous = this.chains.get(update.uploadId) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.apply(update));
    this.chains.set(update.uploadId, run);
    void run.finally(() => {
      if (this.chains.get(update.uploadId) === run) this.chains.delete(update.uploadId);
    }).catch(() => undefined);
    return run;
  }

  private async apply(update: StatusUpdate): Promise<ProcessingStatus> {
    const current = await this.get(update.uploadId);
    const next = applyUpdate(current, update, this.clock());
    if (!next) return current!;
    await fs.mkdir(this.dir, { recursive: true });
    const file = this.file(update.uploadId);
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
