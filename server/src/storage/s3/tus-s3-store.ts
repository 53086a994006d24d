import type { Part, S3 } from '@aws-sdk/client-s3';
import { type MetadataValue, type Options, S3Store } from '@tus/s3-store';
import type { Upload } from '@tus/utils';
import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { isNotFound } from './errors.js';
import { PART_RETRY, type RetryOptions, sendWithRetries } from './retry.js';

/**
 * An upload's completed parts and the size of its short tail (`<id>.part`), if it has one that counts.
 * `staleTail`: a tail object is there but its bytes are already inside a completed part (a write merged
 * it and stopped before deleting it); it counts for nothing and is deleted by the next write.
 */
export interface PartLayout {
  parts: Part[];
  tail: number | undefined;
  staleTail?: boolean;
  /**
   * Numbers of parts past a gap that hold bytes: strays of a failed write (see {@link TusS3Store.layoutOf}).
   * The next write empties them before it sends anything.
   */
  strays?: number[];
}

/** Metadata on a tail object: the number of the part its bytes will open. */
const TAIL_PART_META = 'tus-edge-part';
/** In an upload's stored info (`.info`): its one part size, when it was created with uniform parts. */
const PART_SIZE_INFO = 'tusEdgeUniformPartSize';

/** What a running `append` of an upload has done so far (one write per upload at a time: the lock). */
interface ActiveWrite {
  lastPart: number;
  tailWritten: boolean;
  /** Upload offset at the end of the chunks handed to `uploadPart` so far. */
  offset: number;
  /** The upload's one part size, when its parts are uniform. */
  uniform: number | undefined;
  /** Parts this write completed (number, ETag, size), in the order they finished. */
  uploaded: Part[];
  /** Size of the tail this write left, when it wrote one. */
  tailSize?: number;
}

/** What {@link TusS3Store.append} did. */
export interface Appended {
  /** The upload's offset after the write. */
  offset: number;
  /** Its parts and tail after the write; undefined once the write finished the upload (or a size is unknown). */
  layout: PartLayout | undefined;
}

/**
 * Parts 1…k of a ListParts answer, up to the first missing number or the first empty part (an emptied
 * stray, see {@link TusS3Store.layoutOf}).
 */
function contiguous(parts: Part[]): Part[] {
  const sorted = [...parts].sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
  let k = 0;
  while (k < sorted.length && sorted[k].PartNumber === k + 1 && sorted[k].Size !== 0) k++;
  return sorted.slice(0, k);
}

/** Numbers of the listed parts past the chain that hold bytes. */
function straysOf(listed: Part[], chain: Part[]): number[] {
  const last = chain.at(-1)?.PartNumber ?? 0;
  return listed.filter((p) => (p.PartNumber ?? 0) > last && p.Size !== 0).map((p) => p.PartNumber ?? 0);
}

/** Bytes of a part or tail as the splitter hands it over: a staged file, or a Buffer. */
function sizeOf(body: Readable | Buffer): number | undefined {
  if (Buffer.isBuffer(body)) return body.length;
  const file = (body as fs.ReadStream).path;
  return typeof file === 'string' ? fs.statSync(file).size : undefined;
}

async function* concatStreams(...streams: Readable[]): AsyncGenerator<Buffer> {
  for (const stream of streams) yield* stream as AsyncIterable<Buffer>;
}

export interface TusS3StoreOptions extends Omit<Options, 's3ClientConfig'> {
  client: S3;
  bucket: string;
  /** Largest upload; sizes the parts of uploads whose length is deferred. */
  maxUploadSize: number;
  /** Every part but the last of one size, for every upload (Cloudflare R2 demands it). */
  uniformParts?: boolean;
  /** Told about each part or tail upload that failed transiently and is sent again. */
  onRetry?: (what: 'part' | 'tail', err: unknown) => void;
}

/**
 * @tus/s3-store, extended (not forked) with what this server needs from it:
 * - it is given our configured client instead of building its own;
 * - uploads of deferred length get the preferred part size (stock sizes their parts for 5 TiB,
 *   i.e. ~550 MB parts staged on disk) unless the server's max size needs bigger parts;
 * - writes cut into parts that leave no tail, with fewer S3 round trips (see {@link append});
 * - with `uniformParts` (Cloudflare R2), every part but the last has the same size: writes are cut at
 *   that size and whatever does not fill a part waits as the tail, whatever its length;
 * - a part or tail whose upload fails transiently (503 SlowDown, a reset) is sent again from its
 *   staged file (the SDK never retries a streamed body);
 * - its metadata and multipart-upload internals are reachable for the parts stock lacks
 *   (ranged reads, concatenation, completing a deferred-length upload, complete removal).
 */
export class TusS3Store extends S3Store {
  private readonly maxUploadSizeBytes: number;
  /** The part size chosen for the write running in this async context, if any. */
  private readonly writePartSize = new AsyncLocalStorage<number>();
  /** Running appends by upload id (the splitter's callbacks do not keep the caller's async context). */
  private readonly active = new Map<string, ActiveWrite>();

  /**
   * With uniform parts: the one part size of every upload (sized for the largest upload, since an
   * upload's length may be unknown when it starts); undefined when parts fit each write.
   */
  readonly uniformPartSize: number | undefined;

  private readonly retries: Record<'part' | 'tail', RetryOptions>;

  constructor(options: TusS3StoreOptions) {
    const { client, bucket, maxUploadSize, uniformParts, onRetry, ...rest } = options;
    super({ ...rest, s3ClientConfig: { bucket } });
    this.retries = {
      part: { ...PART_RETRY, onRetry: (err) => onRetry?.('part', err) },
      tail: { ...PART_RETRY, onRetry: (err) => onRetry?.('tail', err) },
    };
    this.client = client;
    this.maxUploadSizeBytes = maxUploadSize;
    this.uniformPartSize = uniformParts ? this.uploadPartSize(undefined) : undefined;
  }

  protected override calcOptimalPartSize(size?: number): number {
    return this.writePartSize.getStore() ?? this.uploadPartSize(size);
  }

  /** With uniform parts, the part size goes into the upload's info: a later change of settings cannot make its parts unequal. */
  override async create(upload: Upload): Promise<Upload> {
    if (this.uniformPartSize) upload.metadata = { ...upload.metadata, [PART_SIZE_INFO]: String(this.uniformPartSize) };
    return super.create(upload);
  }

  /** The upload's one part size if its parts are uniform (as stored when it was created, else this store's setting). */
  partSizeOf(metadata: MetadataValue): number | undefined {
    return Number(metadata.file.metadata?.[PART_SIZE_INFO]) || this.uniformPartSize;
  }

  private uploadPartSize(size?: number): number {
    return super.calcOptimalPartSize(size ?? Math.min(this.maxUploadSizeBytes, this.preferredPartSize * this.maxMultipartParts));
  }

  /**
   * Appends `src` at `offset`, like stock `write`, with two differences:
   * - Stock cuts every write into parts of one size per upload (16 MiB by default) and stores what is
   *   left below S3's 5 MiB minimum as a `.part` tail, which the next write downloads and uploads
   *   again: with 12 MiB PATCHes that is most of the bytes, twice. When the write's length is known
   *   (`expected`), the previous tail plus the write are cut into equal parts instead (at least the
   *   minimum, at most the preferred size), so PATCHes of ≥ 5 MiB leave no tail. A client that stops
   *   early still leaves its bytes as a tail.
   * - Stock asks S3 for the parts (ListParts) and the tail (GetObject) one after the other on every
   *   write; given the `layout` the caller has just read under the upload's lock, this asks for
   *   neither, and downloads the tail only when there is one.
   */
  async append(src: Readable, id: string, offset: number, expected?: number, layout?: PartLayout): Promise<Appended> {
    const [metadata, known] = await Promise.all([this.getMetadata(id), layout ?? this.layoutOf(id)]);
    const { parts, tail, staleTail, strays } = known;
    const nextPart = (parts.at(-1)?.PartNumber ?? 0) + 1;
    if (strays?.length) await this.emptyParts(metadata, strays);
    let body = src;
    let start = offset;
    if (tail) {
      const incomplete = await this.downloadIncompletePart(id);
      if (!incomplete) throw new Error(`the tail of upload ${id} disappeared while it was being written`);
      start = offset - incomplete.size;
      body = Readable.from(concatStreams(incomplete.createReader({ cleanUpOnEnd: true }), src));
    }
    const uniform = this.partSizeOf(metadata);
    const partSize = uniform ?? (expected ? this.partSizeForWrite(metadata.file.size, (tail ?? 0) + expected) : undefined);
    const write: ActiveWrite = { lastPart: nextPart - 1, tailWritten: false, offset: start, uniform, uploaded: [] };
    this.active.set(id, write);
    let uploaded: number;
    try {
      const upload = () => this.uploadParts(metadata, body, nextPart, start);
      uploaded = partSize === undefined ? await upload() : await this.writePartSize.run(partSize, upload);
    } finally {
      this.active.delete(id);
    }
    // The old tail is deleted only now that its bytes are inside a part (or were replaced by the new
    // tail, same key): stock deletes it first, so a node dying in between lost acknowledged bytes.
    if ((tail || staleTail) && !write.tailWritten) await this.deleteIncompletePart(id);
    const newOffset = start + uploaded;
    if (metadata.file.size === newOffset) {
      // Parts past this write's last one are strays of a failed write (see layoutOf): left out.
      const chain = contiguous(await this.retrieveParts(id)).filter((p) => (p.PartNumber ?? 0) <= write.lastPart);
      await this.finishMultipartUpload(metadata, chain);
      await this.completeMetadata(metadata.file);
      await this.clearCache(id);
      return { offset: newOffset, layout: undefined };
    }
    const after = [...parts, ...write.uploaded.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0))];
    const exact = after.every((p) => p.Size !== undefined && p.ETag) && (!write.tailWritten || write.tailSize !== undefined);
    return { offset: newOffset, layout: exact ? { parts: after, tail: write.tailWritten ? write.tailSize : undefined } : undefined };
  }

  /**
   * The upload's parts and tail, read from S3 (ListParts and HeadObject at once). A tail tagged with a
   * part number that a completed part already has is stale (see {@link PartLayout}). Only parts 1…k
   * without a gap count: a write whose part k+1 failed while k+2 was sent at once leaves k+2 behind,
   * and its bytes are not next. The next write sends k+1 onwards again, but it may end before k+2 (a
   * shorter PATCH, parts of another size): so it first empties such strays (a 0-byte UploadPart on the
   * same number; S3 cannot delete one part), and an empty part ends the chain like a missing one.
   */
  async layoutOf(id: string): Promise<PartLayout> {
    const [listed, tail] = await Promise.all([this.retrieveParts(id), this.tailObject(id)]);
    const parts = contiguous(listed);
    const strays = straysOf(listed, parts);
    const extra = strays.length > 0 ? { strays } : {};
    if (!tail) return { parts, tail: undefined, ...extra };
    const lastPart = parts.at(-1)?.PartNumber ?? 0;
    const stale = tail.part !== undefined && tail.part <= lastPart;
    return stale ? { parts, tail: undefined, staleTail: true, ...extra } : { parts, tail: tail.size, ...extra };
  }

  /** Replaces each of `numbers` by an empty part (retried like a part), so that no stray bytes can ever count. */
  private async emptyParts(metadata: MetadataValue, numbers: number[]): Promise<void> {
    await Promise.all(numbers.map((PartNumber) => sendWithRetries(Buffer.alloc(0), (Body) =>
      this.client.uploadPart({ Bucket: this.bucket, Key: metadata.file.id, UploadId: metadata['upload-id'], PartNumber, Body: Body as Buffer }),
      this.retries.part,
    )));
  }

  private async tailObject(id: string): Promise<{ size: number; part?: number } | undefined> {
    try {
      const head = await this.client.headObject({ Bucket: this.bucket, Key: this.partKey(id, true) });
      const part = Number(head.Metadata?.[TAIL_PART_META]);
      return { size: head.ContentLength ?? 0, part: Number.isInteger(part) && part > 0 ? part : undefined };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  protected override async uploadPart(metadata: MetadataValue, readStream: Readable | Buffer, partNumber: number): Promise<string> {
    const write = this.active.get(metadata.file.id);
    // Called in part order as the splitter finishes each chunk, before the tail (the last chunk); what
    // runs before the first await sees the chunks in that order.
    if (write?.uniform && !Buffer.isBuffer(readStream)) {
      const size = fs.statSync((readStream as fs.ReadStream).path).size;
      write.offset += size;
      // Stock sends any last chunk of ≥ 5 MiB as a part; with uniform parts only the upload's last
      // part may be short: a short chunk that does not end the upload waits as the tail instead.
      if (size < write.uniform && write.offset !== metadata.file.size) return this.uploadIncompletePart(metadata.file.id, readStream);
    }
    if (write) write.lastPart = Math.max(write.lastPart, partNumber);
    const size = write && sizeOf(readStream);
    // Stock sends the staged part once: one `503 SlowDown` failed the whole PATCH.
    const etag = await sendWithRetries(readStream, (body) => super.uploadPart(metadata, body as Parameters<S3Store['uploadPart']>[1], partNumber), this.retries.part);
    write?.uploaded.push({ PartNumber: partNumber, ETag: etag, Size: size });
    return etag;
  }

  /** Stock's PutObject of the tail, tagged with the part number its bytes will open, and retried. */
  protected override async uploadIncompletePart(id: string, readStream: Readable): Promise<string> {
    const write = this.active.get(id);
    if (write) {
      write.tailWritten = true;
      write.tailSize = sizeOf(readStream);
    }
    const data = await sendWithRetries(readStream, (body) =>
      this.client.putObject({
        Bucket: this.bucket,
        Key: this.partKey(id, true),
        Body: body,
        Metadata: write ? { [TAIL_PART_META]: String(write.lastPart + 1) } : undefined,
      }),
      this.retries.tail,
    );
    return data.ETag as string;
  }

  /** Equal parts for `bytes`, or undefined where the upload's own part size must stay (see append). */
  private partSizeForWrite(uploadSize: number | undefined, bytes: number): number | undefined {
    if (bytes < this.minPartSize) return undefined;
    const count = Math.max(1, Math.min(Math.ceil(bytes / this.preferredPartSize), Math.floor(bytes / this.minPartSize)));
    const size = Math.ceil(bytes / count);
    // Parts smaller than the upload's own part size could exceed S3's 10,000 parts for a huge upload:
    // allowed only where even minimum-size parts fit.
    const fits = uploadSize !== undefined && uploadSize <= this.minPartSize * this.maxMultipartParts;
    return size >= this.uploadPartSize(uploadSize) || fits ? size : undefined;
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

  async forget(id: string): Promise<void> {
    await this.clearCache(id);
  }
}
