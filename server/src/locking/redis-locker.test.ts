import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '@tus-edge/testkit';
import { lockerContract } from './locker.contract.js';
import { RedisLocker } from './redis-locker.js';

let server: RedisHandle;
const connections: Redis[] = [];
const lockers: RedisLocker[] = [];
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  for (const l of lockers) await l.close();
  for (const c of connections) c.disconnect();
  await server?.stop();
});

/** One "node": its own connections, sharing `prefix` with the other nodes of a test. */
function node(prefix: string, ttlMs = 2000): RedisLocker {
  const redis = new Redis(server.url);
  const subscriber = new Redis(server.url);
  connections.push(redis, subscriber);
  const locker = new RedisLocker({ redis, subscriber, prefix, ttlMs, acquireTimeoutMs: 3000 });
  lockers.push(locker);
  return locker;
}
const newPrefix = () => `t${randomBytes(4).toString('hex')}:`;

lockerContract('RedisLocker (real redis-server)', () => node(newPrefix()));

describe('RedisLocker across nodes', () => {
  const never = () => new AbortController().signal;

  it('asks the holder on another node to release, and the waiter gets the lock in well under a second', async () => {
    const prefix = newPrefix();
    const [a, b] = [node(prefix), node(prefix)];
    const held = a.newLock('up');
    let releasedAt = 0;
    await held.lock(never(), () => {
      releasedAt = Date.now();
      void held.unlock();
    });
    const started = Date.now();
    const waiter = b.newLock('up');
    await waiter.lock(never(), () => undefined);
    const handover = Date.now() - started;
    expect(releasedAt).toBeGreaterThan(0);
    expect(handover).toBeLessThan(1000);
    console.log(`cross-node lock handover: ${handover} ms`);
    await waiter.unlock();
  });

  it("frees a dead node's lock by its TTL", async () => {
    const prefix = newPrefix();
    const dead = node(prefix, 1000);
    const lock = dead.newLock('orphan');
    await lock.lock(never(), () => undefined);
    // The node dies: no renewals, no answer to release requests.
    await dead.close();
    (lock as unknown as { unlock(): Promise<void> }).unlock = async () => undefined;
    for (const c of connections.slice(-2)) c.disconnect();
    const started = Date.now();
    const other = node(prefix).newLock('orphan');
    await other.lock(never(), () => undefined);
    expect(Date.now() - started).toBeLessThan(2500);
    await other.unlock();
  });

  it('refuses with 423 when the holder never lets go within the acquire timeout', async () => {
    const prefix = newPrefix();
    const [a, b] = [node(prefix), node(prefix)];
    const held = a.newLock('stuck');
    await held.lock(never(), () => undefined);
    await expect(b.newLock('stuck').lock(never(), () => undefined)).rejects.toMatchObject({ status: 423 });
    await held.unlock();
  });
});
