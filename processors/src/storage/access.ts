import fsp from 'node:fs/promises';
import { GetObjectCommand, type S3 } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ProcessingError } from '../errors.js';
import type { UploadLocation } from '../pipeline/event.js';

/** Positioned reads of a stored upload, for formats read out of order (PDF cross-reference tables). */
export interface RandomAccess {
  readonly size: number;
  /** Reads `length` bytes at `offset` (fewer at the end of the object). */
  read(offset: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

/**
 * How processors that cannot work on a plain stream reach an upload without loading it whole:
 * ffmpeg gets a path or a presigned URL (it seeks with HTTP ranges), PDF parsing gets positioned reads.
 */
export interface UploadAccess {
  /** A local path, or a presigned GET URL valid for `presignSeconds`. */
  mediaUrl(location: UploadLocation): Promise<string>;
  openRandomAccess(location: UploadLocation, signal?: AbortSignal): Promise<RandomAccess>;
}

/** Files are opened directly; S3 objects (when a client is given) through presigned URLs and ranged GETs. */
export function createUploadAccess(s3: S3 | undefined, presignSeconds = 6 * 3600): UploadAccess {
  const noS3 = (location: UploadLocation) =>
    new ProcessingError('UNSUPPORTED_LOCATION', `${location.kind === 's3' ? `s3://${location.bucket}/${location.key}` : location.kind}: no S3 client configured`);
  return {
    async mediaUrl(location) {
      if (location.kind === 'file') return location.path;
      if (!s3) throw noS3(location);
      return getSignedUrl(s3, new GetObjectCommand({ Bucket: location.bucket, Key: location.key }), { expiresIn: presignSeconds });
    },
    async openRandomAccess(location, signal) {
      if (location.kind === 'file') {
        const handle = await fsp.open(location.path, 'r');
        const { size } = await handle.stat();
        return {
          size,
          read: async (offset, length) => {
            const buf = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
            let done = 0;
            while (done < buf.length) {
              const { bytesRead } = await handle.read(buf, done, buf.length - done, offset + done);
              if (bytesRead === 0) break;
              done += bytesRead;
            }
            return buf.subarray(0, done);
          },
          close: () => handle.close(),
        };
      }
      if (!s3) throw noS3(location);
      const head = await s3.headObject({ Bucket: location.bucket, Key: location.key }, { abortSignal: signal });
      const size = Number(head.ContentLength ?? 0);
      return {
        size,
        read: async (offset, length) => {
          if (length <= 0 || offset >= size) return Buffer.alloc(0);
          const end = Math.min(size, offset + length) - 1;
          const res = await s3.getObject({ Bucket: location.bucket, Key: location.key, Range: `bytes=${offset}-${end}` }, { abortSignal: signal });
          return Buffer.from(await res.Body!.transformToByteArray());
        },
        close: async () => undefined,
      };
    },
  };
}
