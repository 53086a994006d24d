import path from 'node:path';
import type { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import { Quotas } from '../limits/quotas.js';
import { RateLimits } from '../limits/rate-limits.js';
import { FileUsageStore, RedisUsageStore } from '../limits/usage.js';
import type { Logger } from '../ops/logger.js';
import { Security } from './security.js';
import { UrlSigner } from './signed-urls.js';
import { UploadTokens } from './upload-tokens.js';
import { UserTokens } from './user-tokens.js';

/**
 * Builds {@link Security} once from the config: JWT verification only with `AUTH_MODE=jwt`; rate-limit
 * counters and quota usage in Redis when `REDIS_URL` is set (shared by every node), else in this
 * process and under `DATA_DIR/usage` (embedded).
 */
export function buildSecurity(config: Config, redis: { redis: Redis; prefix: string } | undefined, logger: Logger, now: () => Date): Security {
  const sec = config.security;
  const backend = redis ? { kind: 'redis' as const, ...redis } : { kind: 'memory' as const };
  const usage = redis ? new RedisUsageStore(redis.redis, redis.prefix) : new FileUsageStore(path.join(config.dataDir, 'usage'));
  return new Security({
    config: sec,
    userTokens: sec.auth.mode === 'jwt' ? new UserTokens(sec.auth) : undefined,
    uploadTokens: new UploadTokens(sec.signingSecrets, now),
    signer: new UrlSigner(sec.signingSecrets, now),
    limits: new RateLimits(sec.rateLimits, sec.uploadTokenTtlMs, backend, logger),
    quotas: new Quotas(sec.quotas, usage),
  });
}
