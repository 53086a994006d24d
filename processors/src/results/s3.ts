import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type {
  GetObjectCommandInput, GetObjectCommandOutput, HeadObjectCommandInput, HeadObjectCommandOutput,
  ListObjectsV2CommandInput, ListObjectsV2CommandOutput, PutObjectCommandInput, PutObjectCommandOutput,
  DeleteObjectCommandInput, DeleteObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { assertResultName, assertUploadId, contentTypeOf, isResultName, type ByteRange, type ResultBody, type ResultFile, type ResultStore } from './types.js';

/**
 * The five S3 calls the result store makes (the SDK's `S3` class satisfies it; tests may wrap it).
 * Deletes go one object at a time: `DeleteObjects` needs `Content-MD5`, which some S3-compatible
 * stores insist on and the SDK no longer sends.
 */
export interface ResultsS3API {
  putObject(input: PutObjectCommandInput, options?: { abortSignal?: AbortSignal }): Promise<PutObjectCommandOutput>;
  headObject(input: HeadObjectCommandInput): Promise<HeadObjectCommandOutput>;
  getObject(input: GetObjectCommandInput, options?: { abortSignal?: AbortSignal }): Promise<GetObjectCommandOutput>;
  listObjectsV2(input: ListObjectsV2CommandInput): Promise<ListObjectsV2CommandOutput>;
  deleteObject(input: DeleteObjectCommandInput): Promise<DeleteObjectCommandOutput>;
}

const notFound = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
};

/**
 * Results in the upload's bucket under `results/<uploadId>/<name>` (PutObject is atomic: readers see
 * the old object or the new one). The content type is set on the object and derived from the name.
 */
export class S3ResultStore implements ResultStore {
  constructor(
    private readonly s3: ResultsS3API,
    readonly bucket: string,
    private readonly prefix = 'results/',
  ) {}

  private key(uploadId: string, name: string): string {
    assertUploadId(uploadId);
    assertResultName(name);
    return `${this.prefix}${uploadId}/${name}`;
  }

  async put(uploadId: string, name: string, body: ResultBody): Promise<ResultFile> {
    const key = this.key(uploadId, name);
    const contentType = contentTypeOf(name);
    if (Buffer.isBuffer(body)) {
      await this.s3.putObject({ Bucket: this.bucket, Key: key, Body: body, ContentLength: body.length, ContentType: contentType });
      return { name, contentType, size: body.length };
    }
    const { size } = await fsp.stat(body.file);
    await this.s3.putObject({ Bucket: this.bucket, Key: key, Body: fs.createReadStream(body.file), ContentLength: size, ContentType: contentType });
    return { name, contentType, size };
  }

  async head(uploadId: string, name: string): Promise<ResultFile | null> {
    try {
      const res = await this.s3.headObject({ Bucket: this.bucket, Key: this.key(uploadId, name) });
      return { name, contentType: contentTypeOf(name), size: Number(res.ContentLength ?? 0) };
    } catch (err) {
      if (notFound(err)) return null;
      throw err;
    }
  }

  async get(uploadId: string, name: string, range?: ByteRange, signal?: AbortSignal) {
    const file = await this.head(uploadId, name);
    if (!file) return null;
    try {
      const res = await this.s3.getObject(
        { Bucket: this.bucket, Key: this.key(uploadId, name), Range: range ? `bytes=${range.start}-${range.end}` : undefined },
        { abortSignal: signal },
      );
      return { file, stream: res.Body as Readable };
    } catch (err) {
      if (notFound(err)) return null;
      throw err;
    }
  }

  async list(uploadId: string): Promise<ResultFile[]> {
    const prefix = `${this.prefix}${uploadId}/`;
    assertUploadId(uploadId);
    const files: ResultFile[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.listObjectsV2({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token });
      for (const o of page.Contents ?? []) {
        const name = (o.Key ?? '').slice(prefix.length);
        if (isResultName(name)) files.push({ name, contentType: contentTypeOf(name), size: Number(o.Size ?? 0) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async delete(uploadId: string, name: string): Promise<void> {
    await this.s3.deleteObject({ Bucket: this.bucket, Key: this.key(uploadId, name) });
  }

  async remove(uploadId: string): Promise<void> {
    for (const file of await this.list(uploadId)) {
      await this.s3.deleteObject({ Bucket: this.bucket, Key: this.key(uploadId, file.name) });
    }
  }

  locationOf(uploadId: string): string {
    assertUploadId(uploadId);
    return `s3://${this.bucket}/${this.prefix}${uploadId}/`;
  }
}
