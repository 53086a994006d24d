import type { Readable } from 'node:stream';
import { TusError, tusError } from '../../errors.js';
import type { StopReason, UploadStop } from '../../ops/lifecycle.js';
import type { UploadRecord } from '../../records/types.js';
import type { AppContext } from '../../context.js';
import type { ExpectedChecksum } from '../../storage/checksum.js';
import type { Uploads } from '../../uploads/uploads.js';
import { parseChecksum } from '../checksum.js';
import { httpDate, isOffsetContentType, parseUploadLength } from '../protocol.js';
import type { TusRequest } from '../request.js';

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

/** The request body for a write, as the storage's receiver takes it (see `Receiver.take`). */
export function takeBody(deps: AppContext, req: TusRequest): Readable {
  return deps.receiver.take(req.body());
}

export interface AppendResult {
  offset: number;
  finished: boolean;
  /** Set when the write was stopped before the body ended. */
  stopped?: StopReason;
  clientGone: boolean;
}

/**
 * Appends a request body to an upload at `offset` (already checked against the stored offset, which
 * the storage read with `basis`) through the uploads domain. `declaredLength` is a deferred length sent
 * with this request, already validated; it is stored only if the write is accepted. The caller holds
 * the upload's lock. `stop` is aborted when another request needs the upload or the server shuts down,
 * and says which.
 */
export async function appendBody(
  deps: AppContext,
  uploads: Uploads,
  req: TusRequest,
  record: UploadRecord,
  at: { offset: number; basis?: unknown },
  headers: BodyHeaders,
  stop: UploadStop,
  declaredLength?: number,
): Promise<AppendResult> {
  const { offset } = at;
  const length = record.size ?? declaredLength ?? record.maxSize ?? deps.config.maxSize;
  // "The Server SHOULD respond with the 413 Request Entity Too Large status" when a body would carry
  // the upload past its length; checked before reading a byte when Content-Length is known.
  if (headers.contentLength !== undefined && offset + headers.contentLength > length) {
    throw tusError('BODY_EXCEEDS_LENGTH', `offset ${offset} + ${headers.contentLength} bytes > ${length}`);
  }
  const most = Math.min(length - offset, headers.contentLength ?? Number.MAX_SAFE_INTEGER);
  let body: Readable;
  try {
    // Bytes per second, and on the first bytes the media type by magic bytes.
    body = await deps.security.beforeWrite(req.identity, record, offset, headers.stream ?? req.body(), most, stop.signal);
  } catch (err) {
    // A first write whose bytes are not an allowed type is refused and the upload removed.
    if (err instanceof TusError && err.code === 'TYPE_NOT_ALLOWED') await uploads.remove(record);
    throw err;
  }
  const appended = await uploads.append(record, {
    offset,
    limit: most,
    lengthKnown: headers.contentLength !== undefined,
    body,
    checksum: headers.checksum,
    trailerChecksum: headers.trailerChecksum ? () => trailerChecksum(req) : undefined,
    basis: at.basis,
    signal: stop.signal,
    declaredLength,
  });
  await deps.security.afterWrite(req.identity, appended.offset - offset);
  return {
    offset: appended.offset,
    finished: appended.finished,
    stopped: appended.end === 'stopped' ? (stop.reason() ?? 'lock-release') : undefined,
    clientGone: appended.end === 'client-aborted',
  };
}

/** The checksum-trailer extension: the `Upload-Checksum` trailer, once the body has ended. */
function trailerChecksum(req: TusRequest): ExpectedChecksum {
  const trailer = req.trailer('upload-checksum');
  if (!trailer) throw tusError('INVALID_CHECKSUM_HEADER', 'announced Upload-Checksum trailer is missing');
  return parseChecksum(trailer);
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
