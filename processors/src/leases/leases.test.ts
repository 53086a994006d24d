import { afterAll, beforeAll } from 'vitest';
import { startRedis, type NatsHandle, type RedisHandle } from '@tus-edge/testkit';
import { leasesContract } from './leases.contract.js';
import { type LeaseTable, LocalJobLeases } from './local.js';
import { RedisJobLeases } from './redis.js';

let redis: RedisHandle;
let prefixCounter = 0;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

leasesContract('local', async () => {
  const shared: LeaseTable = new Map();
  return { a: new LocalJobLeases(shared), b: new LocalJobLeases(shared) };
});

leasesContract('redis', async () => {
  const prefix = `l${prefixCounter++}:`;
  return { a: new RedisJobLeases(redis.url, { prefix }), b: new RedisJobLeases(redis.url, { prefix }) };
});
