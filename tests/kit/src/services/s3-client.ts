/**
 * The S3 connection a test S3 service hands out, and an SDK client configured for S3-compatible
 * stores that are not AWS (Swift s3api, MinIO).
 */
import {
  AbortMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createS3Client as createServerS3Client } from '@tus-edge/processors';

/** Everything a process needs to reach the bucket. */
export interface S3Connection {
  /** e.g. `http://127.0.0.1:PORT` */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** A fresh bucket made for this service instance. */
  bucket: string;
  forcePathStyle: true;
}

export interface S3Handle extends S3Connection {
  /** `swift`: Swift started by us; `external`: the endpoint given by `TEST_S3_ENDPOINT`. */
  kind: 'swift' | 'external';
  /** PIDs of the Swift processes (proxy, account, container, object); empty for an external endpoint. */
  readonly pids: number[];
  /** Swift: stops every process and removes the temp dir. External: deletes the bucket's objects,
   * multipart uploads and the bucket itself. Idempotent. */
  stop(): Promise<void>;
  /** Swift: stops and starts every process on the same ports and data. External: throws. */
  restart(): Promise<void>;
}

/**
 * An S3 client for `conn`, configured exactly as the server configures its own
 * (storage/s3/client.ts: path-style, checksums only when required, Content-MD5 on DeleteObjects).
 *
 * @example
 * const s3 = await startS3();
 * const client = createS3Client(s3);
 * await client.putObject({ Bucket: s3.bucket, Key: 'k', Body: 'v' });
 */
export function createS3Client(conn: S3Connection): S3 {
  const { endpoint, region, accessKeyId, secretAccessKey } = conn;
  return createServerS3Client({ endpoint, region, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } }, { maxAttempts: 2 });
}

/** The server's environment variables for this S3 service and bucket. */
export function s3Env(conn: S3Connection): Record<string, string> {
  return {
    S3_BUCKET: conn.bucket,
    S3_ENDPOINT: conn.endpoint,
    S3_REGION: conn.region,
    S3_ACCESS_KEY_ID: conn.accessKeyId,
    S3_SECRET_ACCESS_KEY: conn.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
  };
}

/** Aborts every multipart upload in `bucket`, deletes every object, then the bucket. */
export async function deleteBucketAndContents(client: S3Client, bucket: string): Promise<void> {
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  do {
    const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
    for (const upload of page.Uploads ?? []) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }));
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
  } while (keyMarker !== undefined);

  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    const objects = (page.Contents ?? []).map((o) => ({ Key: o.Key }));
    if (objects.length > 0) {
      const res = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }));
      if (res.Errors?.length) throw new Error(`DeleteObjects failed: ${JSON.stringify(res.Errors.slice(0, 3))}`);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);

  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}
