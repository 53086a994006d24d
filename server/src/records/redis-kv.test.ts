import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '../testing/services.js';
import { recordStoreContract } from './records.contract.js';
import { RedisKvStore } from './redis-kv.js';
import { recordTtl, type UploadRecord } from './types.js';

let server: RedisHandle;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});
const prefix = () => `t${randomBytes(4).toString('hex')}:record:`;

recordStoreContract('RedisKvStore (real redis-server)', async () => new RedisKvStore<UploadRecord>(redis, prefix()));

describe('RedisKvStore', () => {
  it('gives each value the lifetime its ttlOf says, and none when it says none', async () => {
    const p = prefix();
    const store = new RedisKvStore<{ ttl?: number }>(redis, p, (v) => v.ttl);
    await store.set('a', { ttl: 60_000 });
    await store.set('b', {});
    const ttlA = await redis.pttl(`${p}a`);
    expect(ttlA).toBeGreaterThan(55_000);
    expect(ttlA).toBeLessThanOrEqual(60_000);
    expect(await redis.pttl(`${p}b`)).toBe(-1);
    expect((await store.list()).sort()).toEqual(['a', 'b']);
  });
});

describe('recordTtl', () => {
  const base: UploadRecord = { id: 'x', metadata: {}, createdAt: '', updatedAt: '' };
  const now = Date.parse('2026-01-01T00:00:00Z');
  const hour = 3_600_000;
  it('keeps an unfinished upload one expiry period past its expiry, a tombstone one period past expiry, a finished one forever', () => {
    expect(recordTtl({ ...base, expiresAt: '2026-01-01T01:00:00Z' }, hour, now)).toBe(2 * hour);
    expect(recordTtl({ ...base, expiredAt: '2026-01-01T00:00:00Z' }, hour, now)).toBe(hour);
    expect(recordTtl({ ...base, completedAt: '2026-01-01T00:00:00Z' }, hour, now)).toBeUndefined();
  });
});
