import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '@tus-edge/testkit';
import { parseProcessRequests, laneOf } from '../config/process.js';
import { processRequestStoreContract } from './process-requests.contract.js';
import { FileProcessRequestStore, IDEMPOTENCY_WINDOW_MS, RedisProcessRequestStore } from './process-requests.js';

let server: RedisHandle;
let redis: Redis;
let dir: string;
beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'process-requests-'));
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

processRequestStoreContract('files', async () => new FileProcessRequestStore(path.join(dir, randomBytes(4).toString('hex'))));
processRequestStoreContract('Redis (real redis-server)', async () => new RedisProcessRequestStore(redis, `t${randomBytes(4).toString('hex')}:`));

describe('FileProcessRequestStore', () => {
  it('forgets a key after the 24 h window', async () => {
    let now = Date.now();
    const store = new FileProcessRequestStore(path.join(dir, 'window'), () => now);
    const rec = { jobId: 'p-1', fileId: 'f', uploadId: 'u', tenant: '', owner: '', kinds: ['video'], options: {}, lane: 'normal' as const, requestedAt: '', requestHash: 'a' };
    expect(await store.bind('k', rec)).toBeNull();
    now += IDEMPOTENCY_WINDOW_MS - 1000;
    expect(await store.bind('k', { ...rec, jobId: 'p-2' })).toMatchObject({ jobId: 'p-1' });
    now += 2000;
    expect(await store.bind('k', { ...rec, jobId: 'p-3' })).toBeNull();
  });
});

describe('request lanes (PROCESS_PLAN_PRIORITY, PROCESS_MAX_PRIORITY)', () => {
  it('follows the plan, lets a priority go down, and caps it going up', () => {
    const config = parseProcessRequests({ PROCESS_PLAN_PRIORITY: 'free:normal, pro:high' });
    expect(laneOf(config, 'pro', undefined)).toBe('high');
    expect(laneOf(config, 'free', undefined)).toBe('normal');
    expect(laneOf(config, undefined, undefined)).toBe('normal');
    expect(laneOf(config, 'free', 'high')).toBe('normal');
    expect(laneOf(config, 'pro', 'normal')).toBe('normal');
    expect(laneOf(config, 'pro', 'high')).toBe('high');
    expect(laneOf(parseProcessRequests({ PROCESS_MAX_PRIORITY: 'high' }), 'free', 'high')).toBe('high');
    expect(() => parseProcessRequests({ PROCESS_PLAN_PRIORITY: 'pro=high' })).toThrow(/PROCESS_PLAN_PRIORITY/);
    expect(() => parseProcessRequests({ PROCESS_MAX_PRIORITY: 'urgent' })).toThrow(/PROCESS_MAX_PRIORITY/);
  });
});
