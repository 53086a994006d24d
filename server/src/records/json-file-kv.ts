import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { directoryOnce } from '../storage/dir.js';

const SAFE_KEY = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * A `KvStore` that keeps one JSON file per key, with an in-memory copy of what it has read or
 * written. A new key's file is created in place (`wx`: one file-system operation less per upload
 * created); an existing key's value goes to a temp file renamed over it, so a crash never tears a
 * value that was there. A torn new file (a crash while creating it) reads as absent: nobody was told
 * about that key yet. Suits one process (the embedded default); the distributed mode uses Redis instead.
 */
export class JsonFileKvStore<T> {
  private readonly cache = new Map<string, T>();
  private readonly dir: ReturnType<typeof directoryOnce>;

  /** `cacheSize` bounds the in-memory copy (least recently used entries are dropped). */
  constructor(
    private readonly directory: string,
    private readonly cacheSize = 10_000,
  ) {
    this.dir = directoryOnce(directory);
  }

  private remember(key: string, value: T): void {
    this.cache.delete(key);
    this.cache.set(key, value);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
  }

  private file(key: string): string {
    if (!SAFE_KEY.test(key)) throw new Error(`unsafe key: ${JSON.stringify(key)}`);
    return path.join(this.directory, `${key}.json`);
  }

  async get(key: string): Promise<T | undefined> {
    if (!SAFE_KEY.test(key)) return undefined;
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      this.remember(key, cached);
      return structuredClone(cached);
    }
    let text: string;
    try {
      text = await fsp.readFile(this.file(key), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let value: T;
    try {
      value = JSON.parse(text) as T;
    } catch {
      return undefined; // torn while being created (see the class comment)
    }
    this.remember(key, value);
    return structuredClone(value);
  }

  async set(key: string, value: T): Promise<void> {
    const file = this.file(key);
    const text = JSON.stringify(value);
    await this.dir.ensure();
    if (!this.cache.has(key) && (await this.createFile(file, text))) {
      this.remember(key, structuredClone(value));
      return;
    }
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await this.inDirectory(() => fsp.writeFile(tmp, text));
    await fsp.rename(tmp, file);
    this.remember(key, structuredClone(value));
  }

  /** Writes a new file; false when it exists already. */
  private async createFile(file: string, text: string): Promise<boolean> {
    try {
      await this.inDirectory(() => fsp.writeFile(file, text, { flag: 'wx' }));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  }

  /** Runs a file creation, making the directory again once if it was removed under us. */
  private async inDirectory(create: () => Promise<void>): Promise<void> {
    try {
      await create();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.dir.reset();
      await this.dir.ensure();
      await create();
    }
  }

  async delete(key: string): Promise<void> {
    this.cache.delete(key);
    await fsp.rm(this.file(key), { force: true });
  }

  async list(): Promise<string[]> {
    try {
      const names = await fsp.readdir(this.directory);
      return names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }
}
