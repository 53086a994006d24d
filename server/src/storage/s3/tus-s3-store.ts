import type { S3 } from '@aws-sdk/client-s3';
import { type MetadataValue, type Options, S3Store } from '@tus/s3-store';

export interface TusS3StoreOptions extends Omit<Options, 's3ClientConfig'> {
  client: S3;
  bucket: string;
  /** Largest upload; sizes the parts of uploads whose length is deferred. */
  maxUploadSize: number;
}

/**
 * @tus/s3-store, extended (not forked) with what this server needs from it:
 * - it is given our configured client instead of building its own;
 * - uploads of deferred length get the preferred part size (stock sizes their parts for 5 TiB,
 *   i.e. ~550 MB parts staged on disk) unless the server's max size needs bigger parts;
 * - its metadata and multipart-upload internals are reachable for the parts stock lacks
 *   (ranged reads, concatenation, completing a deferred-length upload, complete removal).
 */
export class TusS3Store extends S3Store {
  private readonly maxUploadSizeBytes: number;

  constructor(options: TusS3StoreOptions) {
    const { client, bucket, maxUploadSize, ...rest } = options;
    super({ ...rest, s3ClientConfig: { bucket } });
    this.client = client;
    this.maxUploadSizeBytes = maxUploadSize;
  }

  get s3(): S3 {
    return this.client;
  }

  get bucketName(): string {
    return this.bucket;
  }

  protected override calcOptimalPartSize(size?: number): number {
    return super.calcOptimalPartSize(size ?? Math.min(this.maxUploadSizeBytes, this.preferredPartSize * this.maxMultipartParts));
  }

  /** The upload's multipart upload id and stored info (cached, as stock caches it). */
  async metadataOf(id: string): Promise<MetadataValue> {
    return this.getMetadata(id);
  }

  infoKeyOf(id: string): string {
    return this.infoKey(id);
  }

  incompletePartKeyOf(id: string): string {
    return this.partKey(id, true);
  }

  async completedParts(id: string) {
    return this.retrieveParts(id);
  }

  async incompletePartSize(id: string): Promise<number | undefined> {
    return this.getIncompletePartSize(id);
  }

  async forget(id: string): Promise<void> {
    await this.clearCache(id);
  }
}
