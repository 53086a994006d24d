import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '@tus-edge/testkit';
import { recordStoreContract } from './records.contract.js';
import { RedisKvStore } from './redis-kv.js';
import { RedisRecordStore } from './redis-records.js';
import { recordTtl, sweepAt, type UploadRecord } from './types.js';

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

recordStoreContract('RedisRecordStore (real redis-server)', async (expiryMs) => new RedisRecordStore(redis, prefix(), expiryMs));

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

describe('RedisRecordStore', () => {
  const HOUR = 3_600_000;
  const now = Date.parse('2030-01-01T12:00:00Z');
  const base: UploadRecord = { id: 'x', metadata: {}, createdAt: '', updatedAt: '' };

  it('indexes once the records an older version wrote without the index', async () => {
    const p = `t${randomBytes(4).toString('hex')}:`;
    const old = { ...base, id: 'old', expiresAt: new Date(now - 1).toISOString() };
    await redis.set(`${p}record:old`, JSON.stringify(old));
    await redis.set(`${p}record:done`, JSON.stringify({ ...base, id: 'done', completedAt: '2030-01-01T00:00:00Z', eventRecordedAt: '2030-01-01T00:00:00Z', cataloguedAt: '2030-01-01T12:00:00Z' }));
    const store = new RedisRecordStore(redis, p, HOUR);
    expect(await store.due(now)).toEqual(['old']);
    expect(await redis.exists(`${p}record-due:built`)).toBe(1);
    // Indexed once: a record written behind the store's back later is not found by another scan.
    await redis.set(`${p}record:sneaky`, JSON.stringify({ ...old, id: 'sneaky' }));
    expect(await new RedisRecordStore(redis, p, HOUR).due(now)).toEqual(['old']);
  });

  it('drops index entries of records Redis expired by their TTL', async () => {
    const p = `t${randomBytes(4).toString('hex')}:`;
    const store = new RedisRecordStore(redis, p, HOUR);
    await store.set('gone', { ...base, id: 'gone', expiresAt: new Date(now - 1).toISOString() });
    await redis.del(`${p}record:gone`); // what the TTL does
    expect(await redis.zcard(`${p}record-due`)).toBe(1);
    expect(await store.due(now)).toEqual([]);
    expect(await redis.zcard(`${p}record-due`)).toBe(0);
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
  it('keeps a finished upload handed over to the catalogue for the grace after the hand-over', () => {
    const done = { ...base, completedAt: '2025-12-31T23:00:00Z', eventRecordedAt: '2025-12-31T23:00:00Z', cataloguedAt: '2025-12-31T23:30:00Z' };
    expect(recordTtl(done, hour, now)).toBe(hour / 2);
    expect(recordTtl(done, hour, now, 2 * hour)).toBe(hour + hour / 2);
    // A catalogue per node (REDIS_URL without DATABASE_URL): kept, and never due for the sweep.
    expect(recordTtl(done, hour, now, Infinity)).toBeUndefined();
    expect(sweepAt(done, hour, Infinity)).toBeUndefined();
  });
});
