import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, tempDir, type NatsHandle, type RedisHandle } from '@tus-edge/testkit';
import { FileStatusStore } from './file.js';
import { MemoryStatusStore } from './memory.js';
import { RedisStatusStore } from './redis.js';
import { statusStoreContract } from './status.contract.js';

let redis: RedisHandle;
let prefixCounter = 0;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

statusStoreContract('memory', async () => ({ store: new MemoryStatusStore() }));

statusStoreContract('file', async () => {
  const dir = await tempDir();
  return { store: new FileStatusStore(dir), cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
});

describe('FileStatusStore', () => {
  it('prune drops statuses unchanged for the TTL and keeps the others', async () => {
    const dir = await tempDir();
    const store = new FileStatusStore(dir, { ttlMs: 3_600_000 });
    for (const id of ['old', 'fresh']) await store.update({ uploadId: id, eventId: `upload-${id}`, kind: 'fingerprint', patch: { state: 'done' } });
    const twoHoursAgo = new Date(Date.now() - 7_200_000);
    await fs.utimes(path.join(dir, 'old.json'), twoHoursAgo, twoHoursAgo);
    expect(await store.prune()).toBe(1);
    expect(await store.get('old')).toBeNull();
    expect(await store.get('fresh')).not.toBeNull();
    await store.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
});

statusStoreContract('redis', async () => {
  const prefix = `t${prefixCounter++}:`;
  return { store: new RedisStatusStore(redis.url, { prefix }), other: () => new RedisStatusStore(redis.url, { prefix }) };
});
