import type { Redis } from 'ioredis';
import type { KvStore } from '@tus/server';

/**
 * A tus `KvStore` in Redis: one JSON string per key under `prefix`. `ttlOf` gives a value its lifetime
 * in ms (undefined: none), so records disappear on their own after their upload's expiry.
 */
export class RedisKvStore<T> implements KvStore<T> {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlOf: (value: T) => number | undefined = () => undefined,
  ) {}

  async get(key: string): Promise<T | undefined> {
    const raw = await this.redis.get(this.prefix + key);
    return raw === null ? undefined : (JSON.parse(raw) as T);
  }

  async set(key: string, value: T): Promise<void> {
    const ttl = this.ttlOf(value);
    const json = JSON.stringify(value);
    if (ttl === undefined) await this.redis.set(this.prefix + key, json);
    else await this.redis.set(this.prefix + key, json, 'PX', Math.max(1000, Math.ceil(ttl)));
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }

  /** Every key (without the prefix); SCAN, so Redis is never blocked. */
  list(): Promise<string[]> {
    return scanKeys(this.redis, this.prefix);
  }
}

/** Every key under `prefix`, without it; SCAN, so Redis is never blocked (a key may be seen twice: deduplicated). */
export async function scanKeys(redis: Redis, prefix: string): Promise<string[]> {
  const keys = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of batch) keys.add(key.slice(prefix.length));
  } while (cursor !== '0');
  return [...keys];
}
