import { GetObjectCommand, type S3, type StorageClass as S3StorageClass } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Readable } from 'node:stream';
import { isNotFound } from '../storage/s3/errors.js';
import type { ByteRange, UploadStorage } from '../storage/types.js';
import type { UploadLocation } from '@tus-edge/processors';
import type { ObjectTiers, PresignOptions, Presigner, StorageClass } from './types.js';

/** CopyObject copies at most 5 GiB in one request; larger objects are copied in parts of this size. */
const SINGLE_COPY_MAX = 5 * 1024 ** 3;
const COPY_PART = 1024 ** 3;

export interface S3TiersOptions {
  client: S3;
  /** The upload bucket (standard copies, written by the S3 upload storage). */
  bucket: string;
  /** The storage holding the standard copies (reads and removal go through it). */
  storage: UploadStorage;
  /** `StorageClass` of cold copies (`S3_COLD_STORAGE_CLASS`); absent: the bucket's default. */
  storageClass?: string;
  /** Bucket of cold copies (`S3_COLD_BUCKET`, default `bucket`). */
  coldBucket?: string;
  /** Key prefix of cold copies (`S3_COLD_PREFIX`); empty with a storage class: the class changes in place. */
  prefix: string;
  /** Objects larger than this are copied in parts (default 5 GiB, the CopyObject limit; tests lower it). */
  singleCopyMax?: number;
  /** Part size of such copies (default 1 GiB; at least 5 MiB). */
  copyPartSize?: number;
}

/**
 * {@link ObjectTiers} on S3: a cold copy is made with CopyObject (server side; the bytes never pass
 * through this process) under `<prefix><key>` in the cold bucket, with `StorageClass` when one is
 * configured; with no prefix and the same bucket the object is copied onto itself with the new class.
 * Swift's s3api (the test S3) knows only STANDARD, so there the cold class is a prefix or bucket.
 * Also a {@link Presigner}: presigned GetObject URLs for either class.
 */
export class S3Tiers implements ObjectTiers, Presigner {
  private readonly coldBucket: string;
  private readonly inPlace: boolean;

  constructor(private readonly options: S3TiersOptions) {
    this.coldBucket = options.coldBucket ?? options.bucket;
    this.inPlace = this.coldBucket === options.bucket && options.prefix === '';
    if (this.inPlace && !options.storageClass) throw new Error('S3 cold tier: a storage class, another bucket or a prefix is needed');
  }

  private where(key: string, storageClass: StorageClass): { Bucket: string; Key: string } {
    return storageClass === 'cold' ? { Bucket: this.coldBucket, Key: this.options.prefix + key } : { Bucket: this.options.bucket, Key: key };
  }

  async copyToCold(key: string, size: number): Promise<void> {
    const { client, bucket, storageClass } = this.options;
    const target = this.where(key, 'cold');
    const source = `${bucket}/${encodeURIComponent(key)}`;
    const StorageClass = storageClass as S3StorageClass | undefined;
    const partSize = this.options.copyPartSize ?? COPY_PART;
    if (size <= (this.options.singleCopyMax ?? SINGLE_COPY_MAX)) {
      await client.copyObject({ ...target, CopySource: source, StorageClass, MetadataDirective: 'COPY' });
    } else {
      // A copy a killed run left as an unfinished multipart upload is aborted, not left to cost storage.
      const stale = await client.listMultipartUploads({ Bucket: target.Bucket, Prefix: target.Key });
      for (const u of stale.Uploads ?? []) {
        if (u.Key === target.Key) await client.abortMultipartUpload({ ...target, UploadId: u.UploadId }).catch(() => undefined);
      }
      const { UploadId } = await client.createMultipartUpload({ ...target, StorageClass });
      try {
        const Parts = [];
        for (let start = 0, n = 1; start < size; start += partSize, n++) {
          const end = Math.min(size, start + partSize) - 1;
          const r = await client.uploadPartCopy({ ...target, UploadId, PartNumber: n, CopySource: source, CopySourceRange: `bytes=${start}-${end}` });
          Parts.push({ ETag: r.CopyPartResult?.ETag, PartNumber: n });
        }
        await client.completeMultipartUpload({ ...target, UploadId, MultipartUpload: { Parts } });
      } catch (err) {
        await client.abortMultipartUpload({ ...target, UploadId }).catch(() => undefined);
        throw err;
      }
    }
    if (!(await this.hasCold(key, size))) throw new Error(`cold copy of ${key} is not there with ${size} bytes after the copy`);
  }

  async hasCold(key: string, size: number): Promise<boolean> {
    try {
      const head = await this.options.client.headObject(this.where(key, 'cold'));
      if (head.ContentLength !== size) return false;
      // In place, the object is there either way: only its class says whether it moved.
      return !this.inPlace || (head.StorageClass ?? 'STANDARD') === this.options.storageClass;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async dropStandard(key: string): Promise<void> {
    if (!this.inPlace) await this.options.storage.remove(key);
  }

  async read(key: string, storageClass: StorageClass, range?: ByteRange): Promise<Readable> {
    if (storageClass === 'standard') return this.options.storage.read(key, range);
    const res = await this.options.client.getObject({ ...this.where(key, 'cold'), Range: range ? `bytes=${range.start}-${range.end}` : undefined });
    return res.Body as Readable;
  }

  locationOf(key: string, storageClass: StorageClass): UploadLocation {
    const { Bucket, Key } = this.where(key, storageClass);
    return { kind: 's3', bucket: Bucket, key: Key };
  }

  async removeCold(key: string): Promise<void> {
    await this.options.client.deleteObject(this.where(key, 'cold'));
  }

  presign(key: string, storageClass: StorageClass, options: PresignOptions): Promise<string> {
    const command = new GetObjectCommand({
      ...this.where(key, storageClass),
      ResponseContentType: options.contentType,
      ResponseContentDisposition: options.contentDisposition,
      ResponseCacheControl: options.cacheControl,
    });
    return getSignedUrl(this.options.client, command, { expiresIn: Math.max(1, Math.floor(options.expiresInSeconds)) });
  }
}
