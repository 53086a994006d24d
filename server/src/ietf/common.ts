/**
 * What the draft's handlers share: the completeness field of each interop version, `Upload-Limit`,
 * the request body (counted for progress where the version has it) and the append itself, which
 * goes through the same uploads domain, storage, locks and events as tus.
 */
import { performance } from 'node:perf_hooks';
import type { AppContext } from '../context.js';
import { tusError } from '../errors.js';
import type { UploadStop } from '../ops/lifecycle.js';
import type { UploadRecord } from '../records/types.js';
import { appendBody, type BodyHeaders, stoppedError, takeBody } from '../tus/handlers/append.js';
import type { TusRequest } from '../tus/request.js';
import type { Uploads } from '../uploads/uploads.js';
import { formatBoolean, formatDictionary, parseBoolean } from './fields.js';
import { CountingBody, type Interim, reportProgress } from './interim.js';
import { ProblemError } from './problem.js';
import type { Interop } from './versions.js';

/** How often a 104 reports progress while a body is read. */
export const PROGRESS_INTERVAL_MS = 1000;

/** One draft request: the app, the parsed request, the client's interop version, and its interim sender. */
export interface DraftCall {
  deps: AppContext;
  uploads: Uploads;
  req: TusRequest;
  interop: Interop;
  interim?: Interim;
}

/** A response of a draft request (no `Tus-Resumable`); an empty body gets `Content-Length: 0`. */
export function draftResponse(status: number, headers: Record<string, string> = {}): Response {
  const all = status === 204 ? headers : { ...headers, 'Content-Length': '0' };
  return new Response(null, { status, headers: all });
}

/**
 * The completeness a request declares, or undefined when it declares none. Interop 3 has the inverse
 * `Upload-Incomplete`, sent only when the content is not the last: its absence means complete.
 */
export function declaredComplete(req: TusRequest, interop: Interop): boolean | undefined {
  if (interop.completeField === 'Upload-Incomplete') return !(parseBoolean(req.header('upload-incomplete')) ?? false);
  return parseBoolean(req.header('upload-complete'));
}

/** {@link declaredComplete}, required: "The request MUST include the `Upload-Complete` header field." */
export function requireComplete(req: TusRequest, interop: Interop): boolean {
  const complete = declaredComplete(req, interop);
  if (complete === undefined) throw tusError('UPLOAD_COMPLETE_REQUIRED');
  return complete;
}

/** The completeness field as `interop` writes it. */
export function completeHeader(interop: Interop, complete: boolean): Record<string, string> {
  return interop.completeField === 'Upload-Incomplete'
    ? { 'Upload-Incomplete': formatBoolean(!complete) }
    : { 'Upload-Complete': formatBoolean(complete) };
}

/**
 * `Upload-Limit` for versions that have it: `max-size` (the upload's own limit, else MAX_SIZE) and
 * the lifetime left (`max-age`, `expires` in interop 6): of the upload when given (none once it is
 * complete, as it no longer expires), else the lifetime a new upload gets (UPLOAD_EXPIRY).
 */
export function limitHeaders(deps: AppContext, interop: Interop, record?: UploadRecord): Record<string, string> {
  if (interop.limits === 'none') return {};
  const members: Record<string, number> = { 'max-size': record?.maxSize ?? deps.config.maxSize };
  const lifetime = record
    ? record.expiresAt && !record.completedAt ? (Date.parse(record.expiresAt) - deps.now().getTime()) / 1000 : undefined
    : deps.config.uploadExpiryMs / 1000;
  if (lifetime !== undefined) members[interop.limits] = lifetime;
  return { 'Upload-Limit': formatDictionary(members) };
}

/** `Content-Length` as a number (Node has already refused malformed ones), or undefined when chunked or absent. */
export function contentLengthOf(req: TusRequest): number | undefined {
  const value = req.header('content-length');
  return value !== undefined && /^\d+$/.test(value.trim()) ? Number(value.trim()) : undefined;
}

/** Whether the request carries content: a non-zero Content-Length or a transfer coding. */
export function carriesContent(req: TusRequest): boolean {
  return (contentLengthOf(req) ?? 0) > 0 || req.header('transfer-encoding') !== undefined;
}

/** The body of a write, taken before any I/O; counted when progress 104s can be sent. */
export interface DraftBody {
  headers: BodyHeaders;
  counting?: CountingBody;
}

export function takeDraftBody(call: DraftCall): DraftBody {
  const contentLength = contentLengthOf(call.req);
  if (call.interop.progress && call.interim) {
    const counting = new CountingBody(call.req.body());
    return { headers: { stream: counting, trailerChecksum: false, contentLength }, counting };
  }
  return { headers: { stream: takeBody(call.deps, call.req), trailerChecksum: false, contentLength } };
}

export interface DraftAppended {
  offset: number;
  /** The upload is complete now. */
  complete: boolean;
}

/**
 * Appends a body at `offset` (checked against the stored offset by the caller, who holds the lock).
 * `declared` is a length the request gives, already checked against the record's. With
 * `Upload-Complete: ?1` on content of unknown length, the length is the offset reached once the body
 * ended ("the request content was fully processed"); a body cut short leaves the upload incomplete.
 */
export async function appendDraft(
  call: DraftCall, record: UploadRecord, at: { offset: number; basis?: unknown }, body: DraftBody,
  complete: boolean, declared: number | undefined, stop: UploadStop,
): Promise<DraftAppended> {
  const { deps, uploads, req, interim } = call;
  const started = performance.now();
  const stopProgress = body.counting && interim ? reportProgress(interim, body.counting, at.offset, PROGRESS_INTERVAL_MS) : () => {};
  let appended;
  try {
    appended = await appendBody(deps, uploads, req, record, at, body.headers, stop, record.size === undefined ? declared : undefined);
  } finally {
    stopProgress();
  }
  deps.metrics.patchDuration.observe((performance.now() - started) / 1000);
  if (appended.stopped) throw stoppedError(appended);
  if (!complete || appended.finished || appended.clientGone) return { offset: appended.offset, complete: appended.finished };
  if (record.size === undefined) {
    await uploads.completeAt(record, appended.offset);
    return { offset: appended.offset, complete: true };
  }
  // Upload-Complete: ?1, but the content ended short of the length given before: the bytes are kept.
  throw new ProblemError('INCONSISTENT_LENGTH', `the upload is ${record.size} bytes, the content ended at ${appended.offset}`, {
    'Upload-Offset': String(appended.offset),
  });
}
