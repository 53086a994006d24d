import type { Redis } from 'ioredis';
import Redlock, { type Lock as RedlockLock } from 'redlock';
import type { Lock, Locker, RequestRelease } from '@tus/server';
import { redisUnavailable, type RedisUnavailableError } from '@tus-edge/processors';
import { tusError } from '../errors.js';

export interface RedisLockerOptions {
  /** Commands (acquire, extend, release, publish). */
  redis: Redis;
  /** A second connection in subscriber mode; owned (and closed) by the locker. */
  subscriber: Redis;
  prefix: string;
  /** Lock lifetime; renewed every third of it while held, so a dead node's lock frees itself. */
  ttlMs: number;
  /** Longest wait for a lock before 423. */
  acquireTimeoutMs: number;
  /** Retry interval for locks whose holder never answers (e.g. a dead node's lock running out). */
  retryMs?: number;
  /** Called once per held lock that a request elsewhere asks this node to let go of (a handover). */
  onHandover?: () => void;
}

/**
 * The tus `Locker` contract across nodes, on redlock. A request that finds an upload locked publishes
 * a release request; the node holding it calls its holder's `requestRelease` (the stalled PATCH ends
 * cleanly, keeping its bytes), unlocks, and publishes that the lock is free, which wakes the waiter at
 * once. Waiters also retry every `retryMs`, for locks that free themselves by TTL.
 */
export class RedisLocker implements Locker {
  private readonly redlock: Redlock;
  /** Locks held by this process: upload id → the holder's release callback. */
  private readonly held = new Map<string, RequestRelease>();
  /** Requests of this process waiting for a lock: upload id → wake-ups. */
  private readonly waiting = new Map<string, Set<() => void>>();
  private readonly releaseChannel: string;
  private readonly freedChannel: string;
  /** The subscription to the release and freed channels; undefined again after it failed (the next lock retries it). */
  private ready: Promise<unknown> | undefined;
  /** Holders already asked to let go (release requests repeat while the waiter waits). */
  private readonly asked = new WeakSet<RequestRelease>();

  constructor(private readonly options: RedisLockerOptions) {
    this.redlock = new Redlock([options.redis], { retryCount: 0, automaticExtensionThreshold: 0 });
    this.releaseChannel = `${options.prefix}lock:release`;
    this.freedChannel = `${options.prefix}lock:freed`;
    options.subscriber.on('message', (channel: string, id: string) => {
      if (channel === this.releaseChannel) {
        const release = this.held.get(id);
        if (release && !this.asked.has(release)) {
          this.asked.add(release);
          options.onHandover?.();
        }
        void Promise.resolve(release?.()).catch(() => undefined);
      }
      else if (channel === this.freedChannel) for (const wake of this.waiting.get(id) ?? []) wake();
    });
    // Started now, awaited by the first lock. A subscribe that times out (Redis slow at start) must not be
    // an unhandled rejection: that killed the process at start under load (a kill test caught it).
    void this.subscribed().catch(() => undefined);
  }

  private subscribed(): Promise<unknown> {
    this.ready ??= this.options.subscriber.subscribe(this.releaseChannel, this.freedChannel).catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  newLock(id: string): Lock {
    let held: { lock: RedlockLock; renew: NodeJS.Timeout } | undefined;
    return {
      lock: async (signal, requestRelease) => {
        const lock = await this.acquire(id, signal);
        this.held.set(id, requestRelease);
        const renew = setInterval(() => {
          if (!held) return;
          held.lock.extend(this.options.ttlMs).then(
            (extended) => held && (held.lock = extended),
            // Lost it (Redis unreachable longer than the TTL): stop writing; another node may own it now.
            () => void Promise.resolve(requestRelease()).catch(() => undefined),
          );
        }, Math.floor(this.options.ttlMs / 3));
        held = { lock, renew };
      },
      unlock: async () => {
        if (!held) return;
        const { lock, renew } = held;
        held = undefined;
        clearInterval(renew);
        this.held.delete(id);
        await lock.release().catch(() => undefined);
        await this.options.redis.publish(this.freedChannel, id).catch(() => undefined);
      },
    };
  }

  private async acquire(id: string, signal: AbortSignal): Promise<RedlockLock> {
    await this.subscribed();
    const key = `${this.options.prefix}lock:${id}`;
    const deadline = Date.now() + this.options.acquireTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.redlock.acquire([key], this.options.ttlMs);
      } catch (err) {
        // Redis did not answer (timed out, or its breaker is open): say so now (503), not after the lock wait.
        const outage = await redisOutageIn(err);
        if (outage) throw outage;
        // Taken: ask the holder to let go, then wait to be told it is free.
      }
      if (signal.aborted) throw tusError('LOCK_TIMEOUT', 'request ended while waiting');
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw tusError('LOCK_TIMEOUT');
      if (attempt === 0 || attempt % 10 === 0) await this.options.redis.publish(this.releaseChannel, id).catch(() => undefined);
      await this.waitFreed(id, signal, Math.min(remaining, this.options.retryMs ?? 250));
    }
  }

  private waitFreed(id: string, signal: AbortSignal, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wakers = this.waiting.get(id) ?? new Set();
      this.waiting.set(id, wakers);
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        wakers.delete(done);
        if (wakers.size === 0) this.waiting.delete(id);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      wakers.add(done);
    });
  }

  async close(): Promise<void> {
    this.options.subscriber.disconnect();
  }
}

/** The Redis outage behind a failed redlock acquisition (its `ExecutionError` keeps each vote's error), if any. */
async function redisOutageIn(err: unknown): Promise<RedisUnavailableError | undefined> {
  const direct = redisUnavailable(err);
  if (direct) return direct;
  for (const attempt of (err as { attempts?: readonly unknown[] } | undefined)?.attempts ?? []) {
    const stats = (await Promise.resolve(attempt).catch(() => undefined)) as { votesAgainst?: Map<unknown, unknown> } | undefined;
    for (const vote of stats?.votesAgainst?.values() ?? []) {
      const outage = redisUnavailable(vote);
      if (outage) return outage;
    }
  }
  return undefined;
}
