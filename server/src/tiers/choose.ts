import type { S3 } from '@aws-sdk/client-s3';
import type { Config } from '../config/config.js';
import type { UploadStorage } from '../storage/types.js';
import { FileTiers } from './file-tiers.js';
import { S3Tiers } from './s3-tiers.js';
import type { ObjectTiers, Presigner } from './types.js';

/**
 * The storage tiers, chosen once from the config: on S3 the cold class is `S3_COLD_*`, and with
 * `S3_PRESIGNED_DOWNLOADS=true` the S3 tiers also presign downloads; on files the cold class is `COLD_DIR`.
 */
export function buildTiers(
  config: Config, storage: UploadStorage, s3: { client: S3; bucket: string } | undefined,
): { tiers: ObjectTiers; presigner?: Presigner } {
  const lifecycle = config.lifecycle;
  if (!s3) return { tiers: new FileTiers({ storage, coldDir: lifecycle.coldDir, fsync: config.fsync }) };
  const tiers = new S3Tiers({
    client: s3.client, bucket: s3.bucket, storage,
    storageClass: lifecycle.s3Cold.storageClass, coldBucket: lifecycle.s3Cold.bucket, prefix: lifecycle.s3Cold.prefix,
  });
  return { tiers, presigner: lifecycle.presignedDownloads ? tiers : undefined };
}
