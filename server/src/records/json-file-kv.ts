import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { directoryOnce } from '../storage/dir.js';

const SAFE_KEY = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * A `KvStore` that keeps one JSON file per key, with an in-memory copy of what it has read or
 * written. Writes go to a temp file and are renamed into place, so a crash never leaves a torn value.
 * Suits one process (the embedded default); the distributed mode uses Redis instead.
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
    try {
      const value = JSON.parse(await fsp.readFile(this.file(key), 'utf8')) as T;
      this.remember(key, value);
      return structuredClone(value);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async set(key: string, value: T): Promise<void> {
    const file = this.file(key);
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await this.dir.ensure();
    try {
      await fsp.writeFile(tmp, JSON.stringify(value));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.dir.reset(); // the directory was removed under us: make it again once
      await this.dir.ensure();
      await fsp.writeFile(tmp, JSON.stringify(value));
    }
    await fsp.rename(tmp, file);
    this.remember(key, structuredClone(value));
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

/** In-memory `KvStore` for unit tests, with the same copy semantics as the file store. */
export class MemoryKvStore<T> {
  private readonly map = new Map<string, T>();
  async get(key: string): Promise<T | undefined> {
    const v = this.map.get(key);
    return v === undefined ? undefined : structuredClone(v);
  }
  async set(key: string, value: T): Promise<void> {
    this.map.set(key, structuredClone(value));
  }
  async delete(key: string): Promise<void> {
    this.map.delete(key);
  }
  async list(): Promise<string[]> {
    return [...this.map.keys()];
  }
}
