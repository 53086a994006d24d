/**
 * Vitest global setup of the `spec-distributed` project: one Redis and one S3 server (Swift with
 * s3api, or `TEST_S3_ENDPOINT`) for the whole run, handed to the tests as server environment
 * variables. Each test server then uses its own Redis key prefix in the shared bucket.
 */
import type { TestProject } from 'vitest/node';
import { startRedis, startS3 } from './services.js';

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
    S3_BUCKET: s3.bucket,
    S3_ENDPOINT: s3.endpoint,
    S3_REGION: s3.region,
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
    S3_PART_SIZE: '5MiB',
    STAGING_MIN_FREE: '64MiB',
  });
  return async () => {
    await Promise.all([redis.stop(), s3.stop()]);
  };
}
