import type { S3 } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { createS3Client } from '../common/s3-client.js';
import type { S3ReadConfig } from '../config/config.js';
import { ProcessingError } from '../errors.js';
import type { UploadLocation } from '../pipeline/event.js';

/**
 * Opens stored uploads in S3 as streams for processors running in their own process (the server
 * passes its own reader in embedded mode).
 */
export function s3OpenStream(config: S3ReadConfig, client: S3 = createS3Client(config)): (location: UploadLocation, signal: AbortSignal) => Promise<Readable> {
  return async (location, signal) => {
    if (location.kind !== 's3') throw new ProcessingError('UNSUPPORTED_LOCATION', `not an S3 location: ${location.kind}`);
    const res = await client.getObject({ Bucket: location.bucket, Key: location.key }, { abortSignal: signal });
    return res.Body as Readable;
  };
}
