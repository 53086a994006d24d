/** Where the bytes of a finished upload live. */
export type UploadLocation =
  | { kind: 'file'; path: string }
  | { kind: 's3'; bucket: string; key: string };

/**
 * Versioned payload published once per finished upload (`uploads.completed`). Publishing the same
 * event twice is harmless: consumers deduplicate by `eventId`, which is derived from the upload id.
 */
export interface UploadCompletedEvent {
  version: 1;
  type: 'uploads.completed';
  eventId: string;
  uploadId: string;
  size: number;
  metadata: Record<string, string | null>;
  location: UploadLocation;
  completedAt: string;
  node: string;
  /**
   * W3C trace context of the request that finished the upload (optional; absent while tracing is off):
   * the dispatcher and every job continue that trace. Also sent as the NATS message's `traceparent` header.
   */
  traceparent?: string;
  /**
   * Hex sha256 of the bytes, when the server knew it at finish (optional; the fingerprint processor
   * computes it otherwise).
   */
  sha256?: string;
  /**
   * The upload whose stored object these bytes duplicate (optional; set by the server's dedup at finish,
   * when `location` is that object's): every job takes that upload's result and status instead of
   * running again (see runtime/reuse.ts).
   */
  reuseFrom?: string;
  /**
   * Set on a processing request (`POST /api/files/:id/process`) for an upload finished earlier: only
   * `kinds` run, on `lane`, with `options` (per kind, see jobs/options.ts); `eventId` is the request's
   * job id, `uploadId` the file's upload (its results folder) and `location` where the catalogue says
   * the bytes are (cold, or another upload's object for a duplicate). Absent on an upload's own event.
   */
  request?: ProcessRequestInfo;
}

/** What a processing request asks for (see {@link UploadCompletedEvent.request}). */
export interface ProcessRequestInfo {
  kinds: string[];
  lane: 'high' | 'normal';
  /** Per kind; validated by the kind's schema when the job runs. */
  options: Record<string, unknown>;
  requestedAt: string;
}

/** The event id of an upload's own completion event (a request's is its job id). */
export const uploadEventId = (uploadId: string): string => `upload-${uploadId}`;

/** Event ids are used in file names and message ids: letters, digits, `.`, `_`, `-`. */
const EVENT_ID = /^[A-Za-z0-9._-]{1,200}$/;

/**
 * Checks that `value` is an {@link UploadCompletedEvent} v1 the runtime can process; returns it typed.
 * Throws a plain `Error` describing the first problem (the runtime turns it into `INVALID_EVENT`).
 */
export function parseUploadCompletedEvent(value: unknown): UploadCompletedEvent {
  const e = value as Partial<UploadCompletedEvent> | null;
  const fail = (what: string): never => {
    throw new Error(`invalid uploads.completed event: ${what}`);
  };
  if (typeof e !== 'object' || e === null) return fail('not an object');
  if (e.version !== 1) fail(`unsupported version ${JSON.stringify(e.version)}`);
  if (e.type !== 'uploads.completed') fail(`type ${JSON.stringify(e.type)}`);
  if (typeof e.eventId !== 'string' || !EVENT_ID.test(e.eventId)) fail('eventId missing or not [A-Za-z0-9._-]');
  if (typeof e.uploadId !== 'string' || e.uploadId === '') fail('uploadId missing');
  if (typeof e.size !== 'number' || !Number.isSafeInteger(e.size) || e.size < 0) fail('size is not a non-negative integer');
  if (typeof e.metadata !== 'object' || e.metadata === null) fail('metadata is not an object');
  const loc = e.location as UploadLocation | undefined;
  const validLocation =
    (loc?.kind === 'file' && typeof loc.path === 'string') ||
    (loc?.kind === 's3' && typeof loc.bucket === 'string' && typeof loc.key === 'string');
  if (!validLocation) fail('location is neither {kind:"file",path} nor {kind:"s3",bucket,key}');
  if (typeof e.completedAt !== 'string') fail('completedAt missing');
  if (e.traceparent !== undefined && typeof e.traceparent !== 'string') fail('traceparent is not a string');
  if (e.reuseFrom !== undefined && (typeof e.reuseFrom !== 'string' || !EVENT_ID.test(e.reuseFrom))) fail('reuseFrom is not an upload id');
  if (e.sha256 !== undefined && (typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256))) fail('sha256 is not 64 lower-case hex digits');
  const r = e.request;
  if (r !== undefined) {
    const validKinds = Array.isArray(r?.kinds) && r.kinds.length > 0 && r.kinds.every((k) => typeof k === 'string');
    if (!validKinds || (r.lane !== 'high' && r.lane !== 'normal') || typeof r.options !== 'object' || r.options === null) fail('request is not {kinds, lane, options, requestedAt}');
  }
  return e as UploadCompletedEvent;
}
