import { randomUUID } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { Lane } from '@tus-edge/processors';

/** A client's `Idempotency-Key` answers the same request this long. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;
/** Job records are kept this long (as long as the processing status by default, 30 days). */
export const JOB_RECORD_TTL_MS = 30 * 86_400_000;

/** A processing request as accepted: what `GET /api/files/:id/process/:jobId` reports besides the status. */
export interface ProcessRequestRecord {
  jobId: string;
  fileId: string;
  /** The upload whose results and status the jobs write (the file's current version when requested). */
  uploadId: string;
  tenant: string;
  owner: string;
  kinds: string[];
  options: Record<string, unknown>;
  lane: Lane;
  requestedAt: string;
  /** sha256 of the request (file and body): the same idempotency key with another request is refused. */
  requestHash: string;
}

/**
 * Accepted processing requests and the idempotency keys that name them. Implementations: files under
 * `DATA_DIR` (embedded) and Redis (distributed); both pass `requests.contract.ts`.
 */
export interface ProcessRequestStore {
  /**
   * Binds an idempotency key (already scoped to its owner, see `scopedKey`) to `record` unless a
   * binding younger than {@link IDEMPOTENCY_WINDOW_MS} exists: resolves null when `record` was bound,
   * else with the record bound earlier. Atomic: of two requests with one key, one binds.
   */
  bind(key: string, record: ProcessRequestRecord): Promise<ProcessRequestRecord | null>;
  /** Removes a key's binding (the request it named was refused after all). */
  unbind(key: string): Promise<void>;
  /** Keeps the job's record (for {@link JOB_RECORD_TTL_MS}). */
  save(record: ProcessRequestRecord): Promise<void>;
  get(jobId: string): Promise<ProcessRequestRecord | null>;
  /** Optional capability: drops what is past its time, where the backend does not expire keys itself (files). */
  prune?(): Promise<number>;
}

const SAFE = /^[A-Za-z0-9_-]{1,128}$/;
const isErrno = (err: unknown, code: string) => (err as NodeJS.ErrnoException)?.code === code;

/** {@link ProcessRequestStore} as JSON files: `<dir>/keys/<key>.json` and `<dir>/jobs/<jobId>.json`. */
export class FileProcessRequestStore implements ProcessRequestStore {
  constructor(private readonly dir: string, private readonly now: () => number = Date.now) {}

  private file(folder: 'keys' | 'jobs', name: string): string {
    if (!SAFE.test(name)) throw new Error(`unsafe name ${JSON.stringify(name)}`);
    return path.join(this.dir, folder, `${name}.json`);
  }

  private async read(file: string): Promise<{ at: number; record: ProcessRequestRecord } | null> {
    try {
      return JSON.parse(await fsp.readFile(file, 'utf8')) as { at: number; record: ProcessRequestRecord };
    } catch (err) {
      if (isErrno(err, 'ENOENT') || err instanceof SyntaxError) return null;
      throw err;
    }
  }

  async bind(key: string, record: ProcessRequestRecord): Promise<ProcessRequestRecord | null> {
    const file = this.file('keys', key);
    await fsp.mkdir(path.dirname(file), { recursive: true });
    const body = JSON.stringify({ at: this.now(), record });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await fsp.writeFile(file, body, { flag: 'wx' });
        return null;
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw err;
      }
      const existing = await this.read(file);
      if (existing && this.now() - existing.at < IDEMPOTENCY_WINDOW_MS) return existing.record;
      // Expired (or torn by a crash): replaced by this request.
      await fsp.rm(file, { force: true });
    }
    throw new Error(`idempotency key ${key}: could not be bound`);
  }

  async unbind(key: string): Promise<void> {
    await fsp.rm(this.file('keys', key), { force: true });
  }

  async save(record: ProcessRequestRecord): Promise<void> {
    const file = this.file('jobs', record.jobId);
    await fsp.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${randomUUID()}.tmp`;
    await fsp.writeFile(tmp, JSON.stringify({ at: this.now(), record }));
    await fsp.rename(tmp, file);
  }

  async get(jobId: string): Promise<ProcessRequestRecord | null> {
    if (!SAFE.test(jobId)) return null;
    const found = await this.read(this.file('jobs', jobId));
    return found && this.now() - found.at < JOB_RECORD_TTL_MS ? found.record : null;
  }

  /** Removes key bindings past the window and job records past their time; returns how many. */
  async prune(): Promise<number> {
    let n = 0;
    for (const [folder, ttl] of [['keys', IDEMPOTENCY_WINDOW_MS], ['jobs', JOB_RECORD_TTL_MS]] as const) {
      const names = await fsp.readdir(path.join(this.dir, folder)).catch(() => [] as string[]);
      for (const name of names) {
        const file = path.join(this.dir, folder, name);
        const stat = await fsp.stat(file).catch(() => null);
        if (stat && this.now() - stat.mtimeMs >= ttl) n += await fsp.rm(file, { force: true }).then(() => 1);
      }
    }
    return n;
  }
}

/** {@link ProcessRequestStore} in Redis: `<prefix>process:key:<key>` (SET NX PX) and `<prefix>process:job:<jobId>`. */
export class RedisProcessRequestStore implements ProcessRequestStore {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  async bind(key: string, record: ProcessRequestRecord): Promise<ProcessRequestRecord | null> {
    const name = `${this.prefix}process:key:${key}`;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.redis.set(name, JSON.stringify(record), 'PX', IDEMPOTENCY_WINDOW_MS, 'NX')) return null;
      const existing = await this.redis.get(name);
      if (existing) return JSON.parse(existing) as ProcessRequestRecord;
      // Expired between the two commands: bind again.
    }
    throw new Error(`idempotency key ${key}: could not be bound`);
  }

  async unbind(key: string): Promise<void> {
    await this.redis.del(`${this.prefix}process:key:${key}`);
  }

  async save(record: ProcessRequestRecord): Promise<void> {
    await this.redis.set(`${this.prefix}process:job:${record.jobId}`, JSON.stringify(record), 'PX', JOB_RECORD_TTL_MS);
  }

  async get(jobId: string): Promise<ProcessRequestRecord | null> {
    const raw = await this.redis.get(`${this.prefix}process:job:${jobId}`);
    return raw ? (JSON.parse(raw) as ProcessRequestRecord) : null;
  }
}
