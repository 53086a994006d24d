import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe } from 'vitest';
import { startRedis, type RedisHandle } from '@tus-edge/testkit';
import { usageContract } from './usage.contract.js';
import { FileUsageStore, RedisUsageStore } from './usage.js';

const dirs: string[] = [];
let server: RedisHandle;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
  await Promise.all(dirs.map((d) => fsp.rm(d, { recursive: true, force: true })));
});

describe('FileUsageStore', () => {
  usageContract(async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'usage-'));
    dirs.push(dir);
    return new FileUsageStore(dir);
  });
});

describe('RedisUsageStore (real redis-server)', () => {
  usageContract(async () => new RedisUsageStore(redis, `t${randomBytes(4).toString('hex')}:`));
});
