import type { Readable } from 'node:stream';

/**
 * The storage failed in a way worth retrying (busy, throttling, briefly unreachable) after its own
 * retries; clients get 503 with Retry-After instead of a 500.
 */
export class StorageUnavailableError extends Error {
  override name = 'StorageUnavailableError';
  constructor(
    cause: unknown,
    /** When to try again, when known (an open circuit breaker knows); the response's `Retry-After`. */
    readonly retryAfterSeconds = 1,
  ) {
    super((cause as Error)?.message ?? String(cause), { cause });
  }
}

/** Where the bytes of an upload live; carried in completion events. */
export type UploadLocation =
  | { kind: 'file'; path: string }
  | { kind: 's3'; bucket: string; key: string };

/** Inclusive byte range. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface WriteOptions {
  /** Most bytes this write may store; one more byte ends the write with reason `limit`. */
  limit: number;
  /** The body carries exactly this many bytes unless it ends early (a known Content-Length). */
  expected?: number;
  /** Aborting stops reading the body; bytes already received are written and kept. */
  signal?: AbortSignal;
  /** Sees every chunk before it is written (used for checksums and metrics). */
  onChunk?: (chunk: Buffer) => void;
  /**
   * The `basis` of the offset check this write follows under the same lock (see {@link StoredOffset}),
   * so the storage need not read again what it just read.
   */
  basis?: unknown;
}

/** What an offset check found. */
export interface StoredOffset {
  /** Bytes durably stored. */
  bytes: number;
  /**
   * What the storage read to know it (S3: the completed parts and the tail), handed back to the write
   * that follows under the same lock as `WriteOptions.basis`. Opaque to callers.
   */
  basis?: unknown;
}

/**
 * Why a write ended: the body ended (`complete`), the client went away (`client-aborted`),
 * the signal stopped it (`stopped`), or the body was longer than `limit` (`limit`).
 */
export type WriteEnd = 'complete' | 'client-aborted' | 'stopped' | 'limit';

export interface WriteResult {
  /** Bytes written at the requested offset (never more than `limit`). */
  bytes: number;
  end: WriteEnd;
}

/**
 * The byte store behind the tus endpoint. Upload records (length, metadata, concatenation) live in
 * the {@link UploadRecordStore}; the storage only knows bytes. Implementations: file (embedded) and
 * S3 (distributed). Every implementation passes `storage.contract.ts`.
 */
export interface CreateOptions {
  /** Total length, when known at creation. */
  length?: number;
  /** Media type of the content, stored with the object where the storage supports it. */
  contentType?: string;
}

export interface UploadStorage {
  /** Creates an empty upload. */
  create(id: string, options?: CreateOptions): Promise<void>;
  /** Bytes durably stored for `id` (and what was read to know it); `undefined` when the upload does not exist. */
  offset(id: string): Promise<StoredOffset | undefined>;
  /**
   * Appends `body` at `offset` (which must equal the current offset). Bytes received before a client
   * disconnect or a stop are kept; a storage failure rejects and keeps what was written before it.
   */
  write(id: string, offset: number, body: Readable, options: WriteOptions): Promise<WriteResult>;
  /**
   * Cuts the upload back to `length` bytes (used to undo a write whose checksum failed). Storages
   * that cannot (S3 parts are immutable) leave it out; such writes are then verified before they
   * reach the storage.
   */
  truncate?(id: string, length: number): Promise<void>;
  /** Makes the bytes of a fully received upload final (S3: completes the multipart upload). Idempotent. */
  complete(id: string, length: number): Promise<void>;
  /** Streams the bytes of `id`, or of an inclusive range of them. */
  read(id: string, range?: ByteRange): Promise<Readable>;
  /** Writes the bytes of `partIds`, in order, as upload `targetId` without passing them through the JS heap. */
  concatenate(targetId: string, partIds: string[]): Promise<void>;
  /** Deletes the bytes of `id`; deleting a missing upload is not an error. */
  remove(id: string): Promise<void>;
  /** Where the bytes of `id` live. */
  location(id: string): UploadLocation;
  /** Resolves when the storage can take uploads; rejects with the reason otherwise. */
  check(): Promise<void>;
}
