import { randomUUID } from 'node:crypto';
import fsp from 'node:fs/promises';
import { tusError } from '../errors.js';
import { directoryOnce } from './dir.js';
import { FileStorage } from './file-storage.js';

/**
 * Local scratch space for request bodies that must be complete and verified before they reach a
 * storage that cannot undo a write (S3), and the guard that refuses new writes with 503 while the
 * disk under it runs low, instead of filling it.
 */
export class Staging {
  private readonly files: FileStorage;
  private readonly dir: ReturnType<typeof directoryOnce>;

  constructor(
    private readonly directory: string,
    private readonly minFreeBytes: number,
  ) {
    this.files = new FileStorage({ directory, fsync: false });
    this.dir = directoryOnce(directory);
  }

  /** Throws STORAGE_FULL (503, Retry-After) when less than the configured space is free. */
  async ensureRoom(): Promise<void> {
    await this.dir.ensure();
    const { bavail, bsize } = await fsp.statfs(this.directory);
    const free = bavail * bsize;
    if (free < this.minFreeBytes) {
      throw tusError('STORAGE_FULL', `${Math.floor(free / 2 ** 20)} MiB free on the staging disk`, { 'Retry-After': '30' });
    }
  }

  /** Runs `fn` with a fresh scratch upload in the staging directory, removed afterwards. */
  async withScratch<T>(fn: (files: FileStorage, id: string) => Promise<T>): Promise<T> {
    const id = `stage-${randomUUID()}`;
    await this.files.create(id);
    try {
      return await fn(this.files, id);
    } finally {
      await this.files.remove(id);
    }
  }
}
