import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { JobLeases } from './types.js';

/** Extend the key's expiry only if it still names this holder. */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;
/** Delete the key only if it still names this holder. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type LeaseRedis = Redis & {
  leaseRenew(key: string, holder: string, ttlMs: number): Promise<number>;
  leaseRelease(key: string, holder: string): Promise<number>;
};

/**
 * {@link JobLeases} in Redis: one key per running job (`<prefix>lease:<jobId>`) holding this runtime's
 * random holder id, set with NX and a TTL; renewal and release are compare-and-act scripts, so a
 * worker never extends or frees a lease that ran out and was taken by another.
 */
export class RedisJobLeases implements JobLeases {
  private readonly redis: LeaseRedis;
  private readonly holder = randomUUID();
  private readonly prefix: string;

  /** `urlOrClient`: a URL (a client of its own), or a client built by the caller (bounded, guarded). */
  constructor(urlOrClient: string | Redis, options: { prefix?: string; logger?: Logger } = {}) {
    const redis = typeof urlOrClient === 'string' ? new Redis(urlOrClient, { maxRetriesPerRequest: 3 }) : urlOrClient;
    redis.on('error', (err: Error) => options.logger?.warn('redis job leases error', { err: err.message }));
    redis.defineCommand('leaseRenew', { numberOfKeys: 1, lua: RENEW });
    redis.defineCommand('leaseRelease', { numberOfKeys: 1, lua: RELEASE });
    this.redis = redis as LeaseRedis;
    this.prefix = `${options.prefix ?? 'tus:'}lease:`;
  }

  async acquire(jobId: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.prefix + jobId, this.holder, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async renew(jobId: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.leaseRenew(this.prefix + jobId, this.holder, ttlMs)) === 1;
  }

  async release(jobId: string): Promise<void> {
    await this.redis.leaseRelease(this.prefix + jobId, this.holder);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
