import fs from 'node:fs/promises';
import { afterAll, beforeAll } from 'vitest';
import { startRedis, tempDir, type ServiceHandle } from '../testing/services.js';
import { FileStatusStore } from './file.js';
import { MemoryStatusStore } from './memory.js';
import { RedisStatusStore } from './redis.js';
import { statusStoreContract } from './status.contract.js';

let redis: ServiceHandle;
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

statusStoreContract('redis', async () => {
  const prefix = `t${prefixCounter++}:`;
  return { store: new RedisStatusStore(redis.url, { prefix }), other: () => new RedisStatusStore(redis.url, { prefix }) };
});
