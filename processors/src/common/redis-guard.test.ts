/**
 * The Redis guard against a real redis-server: answers (errors from Redis included) pass and keep the
 * breaker closed; a paused Redis (SIGSTOP) times commands out, opens the breaker, and then commands and
 * pipelines fail at once without reaching it; a probe closes it once Redis answers again; the offline
 * queue is bounded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '@tus-edge/testkit';
import { CircuitBreaker } from './breaker.js';
import { connectRedis, redisUnavailable, RedisUnavailableError } from './redis-guard.js';

let redis: RedisHandle;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  try {
    process.kill(redis.pid, 'SIGCONT');
  } catch {
    /* gone */
  }
  await redis?.stop();
});

const settings = { commandTimeoutMs: 300, offlineQueueMax: 3 };
const breakerOf = () => new CircuitBreaker({ service: 'redis', failureThreshold: 2, windowMs: 10_000, openMs: 800 });

describe('guardRedis', () => {
  it('answers pass, a ReplyError is an answer, not an outage', async () => {
    const breaker = breakerOf();
    const client = connectRedis(redis.url, settings, { breaker });
    try {
      await client.set('g:k', 'v');
      expect(await client.get('g:k')).toBe('v');
      await client.lpush('g:list', 'x');
      const err = await client.get('g:list').catch((e: unknown) => e);
      expect((err as Error).name).toBe('ReplyError'); // WRONGTYPE
      for (let i = 0; i < 3; i++) await client.get('g:list').catch(() => undefined);
      expect(breaker.state()).toBe('closed');
      expect(await client.pipeline().set('g:a', '1').get('g:a').exec()).toEqual([[null, 'OK'], [null, '1']]);
    } finally {
      client.disconnect();
    }
  });

  it('paused Redis: timeouts open the breaker; then commands and pipelines fail at once; a probe closes it', async () => {
    const breaker = breakerOf();
    const client = connectRedis(redis.url, settings, { breaker });
    try {
      await client.ping();
      process.kill(redis.pid, 'SIGSTOP');
      let started = performance.now();
      const first = await client.get('g:k').catch((e: unknown) => e);
      expect(first).toBeInstanceOf(RedisUnavailableError);
      expect(performance.now() - started).toBeLessThan(2000); // the command timeout, not forever
      await client.get('g:k').catch(() => undefined);
      expect(breaker.state()).toBe('open');
      started = performance.now();
      const refused = await client.get('g:k').catch((e: unknown) => e);
      const piped = await client.pipeline().get('g:k').get('g:k').exec();
      expect(performance.now() - started).toBeLessThan(250); // refused here, not sent (a loaded machine may still stall a little)
      expect(redisUnavailable(refused)?.retryAfterMs).toBeGreaterThan(0);
      expect(piped?.every(([err]) => err instanceof RedisUnavailableError)).toBe(true);
      process.kill(redis.pid, 'SIGCONT');
      await new Promise((r) => setTimeout(r, 900)); // the open period
      expect(breaker.state()).toBe('half-open');
      expect(await client.get('g:k')).toBe('v'); // the probe
      expect(breaker.state()).toBe('closed');
    } finally {
      try {
        process.kill(redis.pid, 'SIGCONT');
      } catch {
        /* gone */
      }
      client.disconnect();
    }
  });

  it('the offline queue is bounded: commands beyond it fail at once while the connection is down', async () => {
    const breaker = new CircuitBreaker({ service: 'redis', failureThreshold: 100, windowMs: 10_000, openMs: 800 });
    const client = connectRedis('redis://127.0.0.1:1', { commandTimeoutMs: 5000, offlineQueueMax: 3 }, { breaker });
    client.on('error', () => undefined);
    try {
      const queued = [1, 2, 3].map(() => client.get('x').catch((e: unknown) => e));
      const started = performance.now();
      const over = await client.get('x').catch((e: unknown) => e);
      expect(performance.now() - started).toBeLessThan(250); // refused here, not sent (a loaded machine may still stall a little)
      expect(over).toBeInstanceOf(RedisUnavailableError);
      expect((over as Error).message).toMatch(/offline queue full/);
      client.disconnect();
      expect((await Promise.all(queued)).every((e) => e instanceof RedisUnavailableError)).toBe(true);
    } finally {
      client.disconnect();
    }
  });
});
