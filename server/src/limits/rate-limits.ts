import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { SecurityConfig } from '../config/security.js';
import { tusError } from '../errors.js';
import type { Logger } from '../ops/logger.js';

/** Where counters live: Redis (shared by every node) or this process (embedded). */
export type CounterBackend = { kind: 'redis'; redis: Redis; prefix: string } | { kind: 'memory' };

function limiter(backend: CounterBackend, name: string, points: number, durationS: number): RateLimiterAbstract {
  return backend.kind === 'redis'
    ? new RateLimiterRedis({ storeClient: backend.redis, keyPrefix: `${backend.prefix}rl:${name}`, points, duration: durationS })
    : new RateLimiterMemory({ keyPrefix: name, points, duration: durationS });
}

function retryAfter(res: RateLimiterRes): Record<string, string> {
  return { 'Retry-After': String(Math.max(1, Math.ceil(res.msBeforeNext / 1000))) };
}

/**
 * Per-identity rate limits with rate-limiter-flexible, one-second windows: requests, creations and
 * body bytes (`RATE_LIMIT_*`, 0 = off), plus how many uploads each upload token has created. Over a
 * limit → 429 RATE_LIMITED with Retry-After. A counter store that fails (Redis down) lets the request
 * through and logs: rate limits protect capacity, authentication and ownership protect data.
 */
export class RateLimits {
  private readonly requests?: RateLimiterAbstract;
  private readonly creations?: RateLimiterAbstract;
  private readonly bytes?: RateLimiterAbstract;
  private readonly tokenUses: RateLimiterAbstract;

  constructor(
    private readonly config: SecurityConfig['rateLimits'],
    uploadTokenTtlMs: number,
    backend: CounterBackend,
    private readonly logger: Logger,
  ) {
    if (config.requests > 0) this.requests = limiter(backend, 'req', config.requests, 1);
    if (config.creations > 0) this.creations = limiter(backend, 'create', config.creations, 1);
    if (config.bytes > 0) this.bytes = limiter(backend, 'bytes', config.bytes, 1);
    // A token can create only while it lives: counting over its longest life is counting for ever.
    this.tokenUses = limiter(backend, 'token', 2 ** 31 - 1, Math.ceil(uploadTokenTtlMs / 1000) + 60);
  }

  /** One request by `key`. */
  request(key: string): Promise<void> {
    return this.take(this.requests, key, 1);
  }

  /** One upload created by `key`. */
  creation(key: string): Promise<void> {
    return this.take(this.creations, key, 1);
  }

  /** Refuses a body while `key` has used its bytes for the current second (checked before reading). */
  async bytesAllowed(key: string): Promise<void> {
    if (!this.bytes) return;
    try {
      const res = await this.bytes.get(key);
      if (res && res.consumedPoints >= this.config.bytes) throw tusError('RATE_LIMITED', 'bytes per second', retryAfter(res));
    } catch (err) {
      this.passOrThrow(err);
    }
  }

  /** Counts `n` body bytes received for `key` (after the write: a body's size is not always known before). */
  async bytesUsed(key: string, n: number): Promise<void> {
    if (!this.bytes || n <= 0) return;
    await this.bytes.penalty(key, n).catch((err: unknown) => this.passOrThrow(err));
  }

  /** Counts one upload created by token `tokenId`; refuses once `max` were. */
  async tokenUse(tokenId: string, max: number): Promise<void> {
    try {
      const res = await this.tokenUses.consume(tokenId, 1);
      if (res.consumedPoints > max) throw tusError('UPLOAD_TOKEN_EXHAUSTED', `${max} uploads`);
    } catch (err) {
      this.passOrThrow(err);
    }
  }

  private async take(which: RateLimiterAbstract | undefined, key: string, points: number): Promise<void> {
    if (!which) return;
    try {
      await which.consume(key, points);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw tusError('RATE_LIMITED', undefined, retryAfter(err));
      this.passOrThrow(err);
    }
  }

  private passOrThrow(err: unknown): void {
    if (err instanceof Error && err.name === 'TusError') throw err;
    if (err instanceof RateLimiterRes) throw tusError('RATE_LIMITED', undefined, retryAfter(err));
    this.logger.warn('rate limit store failed; request let through', { err: err instanceof Error ? err.message : String(err) });
  }
}
