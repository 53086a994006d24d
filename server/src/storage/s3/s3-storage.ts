import type { S3 } from '@aws-sdk/client-s3';
import type { KvStore } from '@tus/server';
import type { MetadataValue } from '@tus/s3-store';
import { Upload } from '@tus/utils';
import type { Readable } from 'node:stream';
import { feedFrom } from '../feed.js';
import { type ByteRange, type CreateOptions, StorageUnavailableError, type StoredOffset, type UploadLocation, type UploadStorage, type WriteOptions, type WriteResult } from '../types.js';
import { concatenateObjects } from './concat.js';
import { isMissingUpload, isNotFound } from './errors.js';
import { type CachedLayout, LayoutCache } from './layout-cache.js';
import { isTransient } from './retry.js';
import { type PartLayout, TusS3Store } from './tus-s3-store.js';

/** The `basis` of an S3 offset: the completed parts and the tail it added up. */
type LayoutBasis = PartLayout & { bytes: number };


export interface S3StorageOptions {
  client: S3;
  bucket: string;
  /** Preferred part size (S3's minimum of 5 MiB applies). */
  partSize: number;
  /** Parts uploaded at once by this process. */
  partConcurrency: number;
  /** Largest upload, to size parts of deferred-length uploads. */
  maxUploadSize: number;
  /** Where @tus/s3-store keeps its upload info cache (Redis in distributed mode). */
  cache?: KvStore<MetadataValue>;
  /**
   * Where each upload's part layout is kept between writes (Redis in distributed mode; see
   * {@link LayoutCache}); without it every PATCH asks S3 (ListParts + HeadObject) first.
   */
  layouts?: KvStore<CachedLayout>;
  /** Every part but the last of one size (`S3_UNIFORM_PARTS`, Cloudflare R2). */
  uniformParts?: boolean;
  /** Told about each part or tail upload that failed transiently and is sent again. */
  onRetry?: (what: 'part' | 'tail', err: unknown) => void;
}

/**
 * {@link UploadStorage} on S3 multipart uploads through @tus/s3-store. Object `<id>` holds the bytes
 * once finished, `<id>.info` the store's info, `<id>.part` a tail shorter than S3's minimum part size.
 * Writes stream straight into the store's part splitter (no staging of the whole body) in parts that
 * leave no tail when the write's length is known, reusing the part list `offset` just read; S3 parts
 * cannot be cut back, so this storage has no `truncate` and writes that may need undoing are verified
 * before they reach it (see storage/receive.ts).
 */
export class S3Storage implements UploadStorage {
  private readonly store: TusS3Store;
  private readonly client: S3;
  private readonly bucket: string;
  private readonly layouts: LayoutCache | undefined;
  constructor(options: S3StorageOptions) {
    this.client = options.client;
    this.layouts = options.layouts && new LayoutCache(options.layouts);
    this.bucket = options.bucket;
    this.store = new TusS3Store({
      client: options.client,
      bucket: options.bucket,
      partSize: options.partSize,
      maxConcurrentPartUploads: options.partConcurrency,
      maxUploadSize: options.maxUploadSize,
      uniformParts: options.uniformParts,
      onRetry: options.onRetry,
      cache: options.cache,
      // Swift, Ceph and others have no object tagging; expiry is ours (records), not tag-based.
      useTags: false,
      expirationPeriodInMilliseconds: 0,
    });
  }

  async create(id: string, options: CreateOptions = {}): Promise<void> {
    const metadata: Record<string, string> = {};
    if (options.contentType) metadata.contentType = options.contentType;
    await storeCall(() => this.store.create(new Upload({ id, size: options.length, offset: 0, metadata })));
    await this.layouts?.created(id);
  }

  /**
   * Completed parts plus the short tail, asked for at once (stock getUpload asks one after the other,
   * and turns every failure into "not found": a missing bucket or an unreachable store must stay an
   * error, not a 404 for a live upload). A multipart upload that no longer exists was completed.
   */
  async offset(id: string): Promise<StoredOffset | undefined> {
    let meta;
    try {
      meta = await this.store.metadataOf(id);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw unavailableIfTransient(err);
    }
    try {
      const layout = (await this.layouts?.known(id)) ?? (await this.store.layoutOf(id));
      const bytes = layout.parts.reduce((total, part) => total + (part.Size ?? 0), 0) + (layout.tail ?? 0);
      const basis: LayoutBasis = { ...layout, bytes };
      return { bytes, basis };
    } catch (err) {
      if (isMissingUpload(err)) return meta.file.size === undefined ? undefined : { bytes: meta.file.size };
      throw unavailableIfTransient(err);
    }
  }

  async write(id: string, offset: number, body: Readable, options: WriteOptions): Promise<WriteResult> {
    const feed = feedFrom(body, options);
    // The layout the offset check just read under the same lock saves ListParts + GetObject, if it
    // still adds up to the offset this write starts at.
    const basis = options.basis as LayoutBasis | undefined;
    const fresh = basis && basis.bytes === offset ? basis : undefined;
    await this.layouts?.beginWrite(id);
    const appended = await storeCall(() => this.store.append(feed.stream, id, offset, options.expected, fresh));
    await this.layouts?.endWrite(id, appended.layout);
    const { end } = await feed.ended;
    return { bytes: appended.offset - offset, end };
  }

  async complete(id: string, length: number): Promise<void> {
    await storeCall(() => this.completeUpload(id, length));
    await this.layouts?.forget(id);
  }

  private async completeUpload(id: string, length: number): Promise<void> {
    // Usually the store completed it with the last write. (Swift still lists the parts of a completed
    // multipart upload, so ListParts cannot tell; the object itself can.)
    if (await this.exists(id)) return;
    const meta = await this.store.metadataOf(id);
    if (meta.file.size === undefined) {
      await this.store.declareUploadLength(id, length);
      await this.store.forget(id);
    }
    let layout;
    try {
      layout = await this.store.layoutOf(id);
    } catch (err) {
      if (isNotFound(err)) return; // already completed
      throw err;
    }
    const { parts, tail: tailSize } = layout;
    const tailKey = this.store.incompletePartKeyOf(id);
    const uploadId = meta['upload-id'];
    let nextPart = (parts.at(-1)?.PartNumber ?? 0) + 1;
    const completed = parts.map((p) => ({ ETag: p.ETag, PartNumber: p.PartNumber }));
    if (tailSize !== undefined || completed.length === 0) {
      // The tail (or, for an empty upload, an empty part) becomes the last part; S3 allows it to be short.
      const copy = tailSize
        ? await this.client.uploadPartCopy({
            Bucket: this.bucket, Key: id, UploadId: uploadId, PartNumber: nextPart, CopySource: `${this.bucket}/${tailKey}`,
          }).then((r) => r.CopyPartResult?.ETag)
        : await this.client.uploadPart({ Bucket: this.bucket, Key: id, UploadId: uploadId, PartNumber: nextPart, Body: Buffer.alloc(0) }).then((r) => r.ETag);
      completed.push({ ETag: copy, PartNumber: nextPart++ });
    }
    await this.client.completeMultipartUpload({ Bucket: this.bucket, Key: id, UploadId: uploadId, MultipartUpload: { Parts: completed } });
    if (tailSize !== undefined || layout.staleTail) await this.client.deleteObject({ Bucket: this.bucket, Key: tailKey });
    await this.store.forget(id);
  }

  async read(id: string, range?: ByteRange): Promise<Readable> {
    const res = await storeCall(() =>
      this.client.getObject({ Bucket: this.bucket, Key: id, Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
    );
    return res.Body as Readable;
  }

  concatenate(targetId: string, partIds: string[]): Promise<void> {
    return storeCall(async () => {
      await this.layouts?.forget(targetId);
      const meta = await this.store.metadataOf(targetId);
      await concatenateObjects(this.client, this.bucket, targetId, meta['upload-id'], partIds, this.store.partSizeOf(meta));
      await this.store.forget(targetId);
    });
  }

  /**
   * Aborts the multipart upload and deletes every object of the upload. Stock `remove` leaves the
   * `<id>.part` tail behind and fails on an upload whose multipart upload is already completed.
   */
  async remove(id: string): Promise<void> {
    await storeCall(() => this.removeObjects(id));
    await this.layouts?.forget(id);
  }

  private async removeObjects(id: string): Promise<void> {
    let uploadId: string | undefined;
    try {
      uploadId = (await this.store.metadataOf(id))['upload-id'];
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (uploadId) {
      await this.client.abortMultipartUpload({ Bucket: this.bucket, Key: id, UploadId: uploadId }).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    }
    await this.client.deleteObjects({
      Bucket: this.bucket,
      Delete: { Objects: [{ Key: id }, { Key: this.store.infoKeyOf(id) }, { Key: this.store.incompletePartKeyOf(id) }], Quiet: true },
    });
    await this.store.forget(id);
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await this.client.headObject({ Bucket: this.bucket, Key: key });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  location(id: string): UploadLocation {
    return { kind: 's3', bucket: this.bucket, key: id };
  }

  async check(): Promise<void> {
    await this.client.headBucket({ Bucket: this.bucket });
  }
}

/** A failure the store's retries could not get past, as the storage port's retryable error. */
function unavailableIfTransient(err: unknown): unknown {
  return isTransient(err) ? new StorageUnavailableError(err) : err;
}

/** Runs an S3 operation; a transient failure left after retries becomes {@link StorageUnavailableError} (503). */
async function storeCall<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    throw unavailableIfTransient(err);
  }
}
