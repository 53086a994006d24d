import type { ChainableCommander, Redis } from 'ioredis';
import { scanKeys } from './redis-kv.js';
import { DEFAULT_CATALOGUE_GRACE_MS, recordTtl, sweepAt, type UploadRecord, type UploadRecordStore } from './types.js';

/** Drop an id from the index only if its record is gone (atomic: a record is never written without its entry). */
const FORGET_IF_GONE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
redis.call('ZREM', KEYS[2], ARGV[1])
return 0
`;

type IndexRedis = Redis & { forgetIfGone(recordKey: string, dueKey: string, id: string): Promise<number> };

/**
 * Upload records in Redis: one JSON string per upload (`<prefix>record:<id>`, living as long as
 * {@link recordTtl} says: finished ones until their grace after the hand-over to the catalogue), and a sorted set `<prefix>record-due` of ids scored by {@link sweepAt}, so
 * that the sweep every node runs every interval is one ZRANGEBYSCORE instead of a SCAN and a GET of
 * every record (finished uploads never expire: their number only grows). A record and its index entry
 * change in one MULTI. Entries whose record Redis expired by TTL are dropped by the next `due`.
 * Records written before the index existed are indexed once, by the first `due` of a process that
 * finds no `<prefix>record-due:built` marker.
 */
export class RedisRecordStore implements UploadRecordStore {
  private readonly redis: IndexRedis;
  private readonly keyPrefix: string;
  private readonly dueKey: string;
  private indexed: Promise<void> | undefined;

  constructor(
    redis: Redis,
    prefix: string,
    private readonly expiryMs: number,
    /** How long a record handed over to the catalogue lives on (`CATALOGUE_RECORD_GRACE`). */
    private readonly graceMs = DEFAULT_CATALOGUE_GRACE_MS,
  ) {
    redis.defineCommand('forgetIfGone', { numberOfKeys: 2, lua: FORGET_IF_GONE });
    this.redis = redis as IndexRedis;
    this.keyPrefix = `${prefix}record:`;
    this.dueKey = `${prefix}record-due`;
  }

  async get(id: string): Promise<UploadRecord | undefined> {
    const raw = await this.redis.get(this.keyPrefix + id);
    return raw === null ? undefined : (JSON.parse(raw) as UploadRecord);
  }

  async set(id: string, record: UploadRecord): Promise<void> {
    const tx = this.redis.multi();
    const key = this.keyPrefix + id;
    const json = JSON.stringify(record);
    const ttl = recordTtl(record, this.expiryMs, Date.now(), this.graceMs);
    if (ttl === undefined) tx.set(key, json);
    else tx.set(key, json, 'PX', Math.max(1000, Math.ceil(ttl)));
    const at = sweepAt(record, this.expiryMs, this.graceMs);
    if (at === undefined) tx.zrem(this.dueKey, id);
    else tx.zadd(this.dueKey, at, id);
    await exec(tx);
  }

  async delete(id: string): Promise<void> {
    await exec(this.redis.multi().del(this.keyPrefix + id).zrem(this.dueKey, id));
  }

  /** Every record's id; SCAN, so Redis is never blocked. */
  list(): Promise<string[]> {
    return scanKeys(this.redis, this.keyPrefix);
  }

  async due(now: number): Promise<string[]> {
    await (this.indexed ??= this.indexOnce().catch((err: unknown) => {
      this.indexed = undefined;
      throw err;
    }));
    const ids = await this.redis.zrangebyscore(this.dueKey, '-inf', now);
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) (pipeline as unknown as IndexRedis).forgetIfGone(this.keyPrefix + id, this.dueKey, id);
    const results = await pipeline.exec();
    return ids.filter((_, i) => results?.[i]?.[1] === 1);
  }

  /** Indexes the records a version without the index wrote (once per Redis, remembered by a marker). */
  private async indexOnce(): Promise<void> {
    const marker = `${this.dueKey}:built`;
    if (await this.redis.exists(marker)) return;
    for (const id of await this.list()) {
      const record = await this.get(id);
      const at = record && sweepAt(record, this.expiryMs, this.graceMs);
      if (at !== undefined) await this.redis.zadd(this.dueKey, 'NX', at, id);
    }
    await this.redis.set(marker, new Date().toISOString());
  }
}

async function exec(tx: ChainableCommander): Promise<void> {
  for (const [err] of (await tx.exec()) ?? []) if (err) throw err;
}
