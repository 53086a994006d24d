/**
 * Vitest global setup of the `spec-distributed` project: one Redis and one S3 server (Swift with
 * s3api, or `TEST_S3_ENDPOINT`) for the whole run, handed to the tests as server environment
 * variables. Each test server then uses its own Redis key prefix in the shared bucket.
 */
import type { TestProject } from 'vitest/node';
import { s3Env, startRedis, startS3 } from '@tus-edge/testkit';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Server environment for S3 storage and Redis records/locks; absent in the embedded project. */
    distributedEnv?: Record<string, string>;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [redis, s3] = await Promise.all([startRedis(), startS3()]);
  project.provide('distributedEnv', {
    REDIS_URL: redis.url,
    ...s3Env(s3),
    S3_PART_SIZE: '5MiB',
    STAGING_MIN_FREE: '64MiB',
  });
  return async () => {
    await Promise.all([redis.stop(), s3.stop()]);
  };
}
