/**
 * The backing services of the distributed deployment, started together for a test file: Redis, S3
 * (Swift with s3api, or `TEST_S3_ENDPOINT`) and PostgreSQL, on 127.0.0.1 with random ports, stopped
 * by PID. What the catalogue's distributed tests (hand-over, dedup, lifecycle, the kill tests) share.
 */
import { s3Env, startPostgres, startRedis, startS3, type PostgresHandle, type RedisHandle, type S3Handle } from './services.js';
import type { ServerEnv } from './server-process.js';

export interface DistributedServices {
  redis: RedisHandle;
  s3: S3Handle;
  postgres: PostgresHandle;
  /**
   * Server environment for a deployment on these services: S3 storage, Redis records and locks (under
   * `prefix`), and the catalogue in a new PostgreSQL database `database`; `extra` last.
   */
  serverEnv(database: string, prefix: string, extra?: ServerEnv): Promise<ServerEnv & { DATABASE_URL: string }>;
  /** Freezes the S3 server (SIGSTOP of every Swift process): requests to it hang until {@link resumeS3}. */
  pauseS3(): void;
  resumeS3(): void;
  /** Stops every service (idempotent); a paused S3 is resumed first. */
  stop(): Promise<void>;
}

/**
 * Starts Redis, S3 and PostgreSQL one after the other (three at once can miss their start-up timeouts on a
 * loaded machine; Swift's ring builder is slow), each with `timeoutMs` to come up (default 120 s).
 */
export async function startDistributedServices(options: { timeoutMs?: number } = {}): Promise<DistributedServices> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const started: Array<{ stop(): Promise<void> }> = [];
  try {
    const redis = await startRedis({ timeoutMs });
    started.push(redis);
    const postgres = await startPostgres({ timeoutMs });
    started.push(postgres);
    const s3 = await startS3({ timeoutMs });
    started.push(s3);
    let paused = false;
    const signal = (sig: NodeJS.Signals) => {
      if (s3.pids.length === 0) throw new Error('an external S3 endpoint cannot be paused');
      for (const pid of s3.pids) process.kill(pid, sig);
      paused = sig === 'SIGSTOP';
    };
    return {
      redis, s3, postgres,
      serverEnv: async (database, prefix, extra = {}) => ({
        ...s3Env(s3), REDIS_URL: redis.url, REDIS_PREFIX: prefix, DATABASE_URL: await postgres.createDatabase(database),
        S3_PART_SIZE: '5MiB', STAGING_MIN_FREE: '1MiB', ...extra,
      }),
      pauseS3: () => signal('SIGSTOP'),
      resumeS3: () => signal('SIGCONT'),
      stop: async () => {
        if (paused) signal('SIGCONT');
        await Promise.all(started.map((s) => s.stop()));
      },
    };
  } catch (err) {
    await Promise.all(started.map((s) => s.stop().catch(() => undefined)));
    throw err;
  }
}
