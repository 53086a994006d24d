import type { Readable } from 'node:stream';
import { tusError } from '../../errors.js';
import { HeldBody } from '../../storage/held-body.js';
import type { StopReason, UploadStop } from '../../ops/lifecycle.js';
import type { UploadRecord } from '../../records/types.js';
import { type ExpectedChecksum, parseChecksum } from '../checksum.js';
import type { AppContext } from '../../context.js';
import { httpDate, isOffsetContentType, parseUploadLength } from '../protocol.js';
import { receiveBody } from '../receive.js';
import type { TusRequest } from '../request.js';
import type { Uploads } from '../uploads.js';

/** Body-related headers of a PATCH (or a creation-with-upload POST), validated before any I/O. */
export interface BodyHeaders {
  /** The body, taken in early where the storage is slow to start reading (see {@link takeBody}). */
  stream?: Readable;
  checksum?: ExpectedChecksum;
  trailerChecksum: boolean;
  contentLength?: number;
}

/**
 * Validates Content-Type, Content-Length and Upload-Checksum. "All PATCH requests MUST use
 * Content-Type: application/offset+octet-stream, otherwise the server SHOULD return a 415 Unsupported
 * Media Type status."
 */
export function readBodyHeaders(req: TusRequest): BodyHeaders {
  if (!isOffsetContentType(req.header('content-type'))) throw tusError('INVALID_CONTENT_TYPE');
  const checksumHeader = req.header('upload-checksum');
  const lengthHeader = req.header('content-length');
  return {
    checksum: checksumHeader !== undefined ? parseChecksum(checksumHeader) : undefined,
    trailerChecksum: checksumHeader === undefined && /(^|,)\s*upload-checksum\s*(,|$)/i.test(req.header('trailer') ?? ''),
    contentLength: lengthHeader !== undefined ? parseUploadLength(lengthHeader) : undefined,
  };
}

/**
 * The request body for a write. Storages that cannot undo a write (S3) spend S3 round trips before
 * their write starts reading, so their body is taken in from the first byte ({@link HeldBody}) and a
 * client that disconnects meanwhile still has what it sent stored; file storage reads the socket
 * stream directly, with nothing in between.
 */
export function takeBody(deps: AppContext, req: TusRequest): Readable {
  return deps.storage.truncate ? req.body() : new HeldBody(req.body());
}

export interface AppendResult {
  offset: number;
  finished: boolean;
  /** Set when the write was stopped before the body ended. */
  stopped?: StopReason;
  clientGone: boolean;
}

/**
 * Appends a request body to an upload at `offset` (already checked against the stored offset) and
 * persists the record. `declaredLength` is a deferred length sent with this request, already validated;
 * it is stored only if the write is accepted. The caller holds the upload's lock. `stop` is aborted when another request
 * needs the upload or the server shuts down, and says which.
 */
export async function appendBody(
  deps: AppContext,
  uploads: Uploads,
  req: TusRequest,
  record: UploadRecord,
  offset: number,
  headers: BodyHeaders,
  stop: UploadStop,
  declaredLength?: number,
): Promise<AppendResult> {
  const length = record.size ?? declaredLength ?? deps.config.maxSize;
  // "The Server SHOULD respond with the 413 Request Entity Too Large status" when a body would carry
  // the upload past its length; checked before reading a byte when Content-Length is known.
  if (headers.contentLength !== undefined && offset + headers.contentLength > length) {
    throw tusError('BODY_EXCEEDS_LENGTH', `offset ${offset} + ${headers.contentLength} bytes > ${length}`);
  }
  await deps.staging.ensureRoom();
  const outcome = await receiveBody(deps, record, {
    offset,
    limit: Math.min(length - offset, headers.contentLength ?? Number.MAX_SAFE_INTEGER),
    lengthKnown: headers.contentLength !== undefined,
    body: headers.stream ?? req.body(),
    checksum: headers.checksum,
    trailerChecksum: headers.trailerChecksum ? () => req.trailer('upload-checksum') : undefined,
    signal: stop.signal,
  });
  // A length declared with the PATCH (deferred length) takes effect only with bytes that were accepted.
  if (declaredLength !== undefined) record.size = declaredLength;
  const newOffset = offset + outcome.bytes;
  const finished = record.size !== undefined && newOffset === record.size;
  // A checksummed write marked the record pending while it ran; a declared length is new: store those.
  const changed = declaredLength !== undefined || headers.checksum !== undefined || headers.trailerChecksum;
  if (finished) {
    record.updatedAt = deps.now().toISOString();
    await uploads.finish(record);
  } else if (changed || uploads.expiryRefreshDue(record)) {
    record.updatedAt = deps.now().toISOString();
    record.expiresAt = uploads.nextExpiry();
    await deps.records.set(record.id, record);
  }
  return {
    offset: newOffset,
    finished,
    stopped: outcome.end === 'stopped' ? (stop.reason() ?? 'lock-release') : undefined,
    clientGone: outcome.end === 'client-aborted',
  };
}

/** Response headers after a write: the new offset, and the expiry while unfinished. */
export function appendHeaders(record: UploadRecord, result: AppendResult): Record<string, string> {
  const headers: Record<string, string> = { 'Upload-Offset': String(result.offset) };
  if (!result.finished && record.expiresAt) headers['Upload-Expires'] = httpDate(record.expiresAt);
  return headers;
}

/** The error for a write that was stopped part-way; it carries the offset reached. */
export function stoppedError(result: AppendResult) {
  const headers = { 'Upload-Offset': String(result.offset), Connection: 'close' };
  return result.stopped === 'shutdown'
    ? tusError('SHUTTING_DOWN', undefined, headers)
    : tusError('UPLOAD_INTERRUPTED', undefined, headers);
}
