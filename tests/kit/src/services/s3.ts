/**
 * `startS3()`: Swift (with s3api) started here, or an external S3-compatible endpoint (e.g. MinIO)
 * named by `TEST_S3_ENDPOINT`. Either way the caller gets a fresh bucket of its own.
 */
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { ServiceOptions } from './process.js';
import { createS3Client, deleteBucketAndContents, type S3Connection, type S3Handle } from './s3-client.js';
import { startSwift } from './swift.js';

export interface S3Options extends ServiceOptions {
  /**
   * Where to look for `TEST_S3_ENDPOINT`, `TEST_S3_ACCESS_KEY_ID`, `TEST_S3_SECRET_ACCESS_KEY` and
   * `TEST_S3_REGION` (default `process.env`). Read when `startS3()` is called, not at import.
   */
  env?: NodeJS.ProcessEnv;
}

/** The external endpoint named by `env`, or undefined when `TEST_S3_ENDPOINT` is not set. */
export function externalS3FromEnv(env: NodeJS.ProcessEnv): Omit<S3Connection, 'bucket'> | undefined {
  const endpoint = env.TEST_S3_ENDPOINT;
  if (!endpoint) return undefined;
  const accessKeyId = env.TEST_S3_ACCESS_KEY_ID;
  const secretAccessKey = env.TEST_S3_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error('TEST_S3_ENDPOINT is set, so TEST_S3_ACCESS_KEY_ID and TEST_S3_SECRET_ACCESS_KEY must be set too');
  }
  return { endpoint, region: env.TEST_S3_REGION || 'us-east-1', accessKeyId, secretAccessKey, forcePathStyle: true };
}

/**
 * Starts an S3 test service and creates a fresh, empty bucket.
 *
 * - Default: Debian OpenStack Swift with s3api in a temp dir (access key `test:tester`, secret
 *   `testing`, region `us-east-1`); `restart()` restarts all its processes on the same ports and data.
 * - With `TEST_S3_ENDPOINT` set: nothing is started; a bucket is created on that endpoint, `stop()`
 *   empties and deletes it, and `restart()` throws.
 *
 * @example
 * const s3 = await startS3();
 * const client = createS3Client(s3);
 * // ... new S3Store({ partSize, useTags: false, s3ClientConfig: { ...s3, credentials: {...} } })
 * await s3.stop();
 */
export async function startS3(options: S3Options = {}): Promise<S3Handle> {
  const external = externalS3FromEnv(options.env ?? process.env);
  if (!external) return startSwift(options);

  const conn: S3Connection = { ...external, bucket: `tus-edge-test-${randomBytes(6).toString('hex')}` };
  const client = createS3Client(conn);
  try {
    await client.send(new CreateBucketCommand({ Bucket: conn.bucket }));
  } catch (err) {
    client.destroy();
    throw new Error(`cannot create bucket ${conn.bucket} on TEST_S3_ENDPOINT=${conn.endpoint}: ${(err as Error).message}`, { cause: err });
  }
  let stopped = false;
  return {
    kind: 'external',
    ...conn,
    pids: [],
    stop: async () => {
      if (stopped) return;
      stopped = true;
      try {
        await deleteBucketAndContents(client, conn.bucket);
      } finally {
        client.destroy();
      }
    },
    restart: () => Promise.reject(new Error(`restart() is not supported for external S3 (TEST_S3_ENDPOINT=${conn.endpoint})`)),
  };
}
