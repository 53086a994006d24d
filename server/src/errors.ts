/**
 * The error catalogue: every error a client can receive, with its code, HTTP status and message.
 * Handlers throw {@link TusError}; one place (`errorResponse` in http/respond.ts) turns it into a response.
 */
export const ERRORS = {
  TUS_RESUMABLE_UNSUPPORTED: { status: 412, message: 'Tus-Resumable header missing or unsupported; this server speaks 1.0.0' },
  UPLOAD_NOT_FOUND: { status: 404, message: 'upload not found' },
  UPLOAD_GONE: { status: 410, message: 'upload expired and no longer exists' },
  INVALID_CONTENT_TYPE: { status: 415, message: 'Content-Type must be application/offset+octet-stream' },
  MISSING_OFFSET: { status: 400, message: 'Upload-Offset header required' },
  INVALID_OFFSET: { status: 400, message: 'Upload-Offset must be a non-negative integer' },
  OFFSET_MISMATCH: { status: 409, message: 'Upload-Offset does not match the current offset of the upload' },
  INVALID_LENGTH: { status: 400, message: 'Upload-Length must be a non-negative integer' },
  LENGTH_REQUIRED: { status: 400, message: 'exactly one of Upload-Length or Upload-Defer-Length: 1 is required' },
  INVALID_DEFER_LENGTH: { status: 400, message: 'Upload-Defer-Length must be 1' },
  LENGTH_ALREADY_SET: { status: 400, message: 'Upload-Length is already set for this upload and cannot change' },
  LENGTH_BELOW_OFFSET: { status: 400, message: 'Upload-Length is smaller than the bytes already received' },
  MAX_SIZE_EXCEEDED: { status: 413, message: 'upload is larger than Tus-Max-Size' },
  BODY_EXCEEDS_LENGTH: { status: 413, message: 'request body goes beyond Upload-Length' },
  INVALID_METADATA: { status: 400, message: 'Upload-Metadata must be comma-separated "key base64value" pairs with unique ASCII keys' },
  METADATA_TOO_LARGE: { status: 431, message: 'Upload-Metadata header is too large' },
  INVALID_CHECKSUM_HEADER: { status: 400, message: 'Upload-Checksum must be "<algorithm> <base64 digest>"' },
  UNSUPPORTED_CHECKSUM_ALGORITHM: { status: 400, message: 'checksum algorithm not supported; see Tus-Checksum-Algorithm' },
  CHECKSUM_MISMATCH: { status: 460, message: 'checksum mismatch: the body does not match Upload-Checksum; nothing was stored' },
  INVALID_CONCAT: { status: 400, message: 'Upload-Concat must be "partial" or "final;<url> <url> ..."' },
  INVALID_CONCAT_PART: { status: 400, message: 'Upload-Concat final lists an upload that is not a partial upload of this server' },
  CONCAT_LENGTH_FORBIDDEN: { status: 400, message: 'a final upload must not carry Upload-Length' },
  PATCH_FINAL_FORBIDDEN: { status: 403, message: 'a final upload cannot be patched' },
  UPLOAD_INTERRUPTED: { status: 400, message: 'upload was interrupted by another request for the same upload; bytes received so far are kept' },
  LOCK_TIMEOUT: { status: 423, message: 'upload is locked by another request; retry shortly' },
  UPLOAD_INCOMPLETE: { status: 409, message: 'upload is not finished; download is available once it is' },
  RANGE_NOT_SATISFIABLE: { status: 416, message: 'requested range not satisfiable' },
  // The results API (GET /api/uploads/:id/results/:name).
  INVALID_RESULT_NAME: { status: 400, message: 'result names are lower-case letters, digits, ".", "_" and "-"' },
  RESULT_NOT_FOUND: { status: 404, message: 'no such result for this upload' },
  STORAGE_FULL: { status: 503, message: 'not enough local staging space to take this write now; retry later' },
  SHUTTING_DOWN: { status: 503, message: 'server is shutting down; retry on another node' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'method not allowed on this resource' },
  STORAGE_UNAVAILABLE: { status: 503, message: 'the storage is busy or unreachable; bytes received so far are kept, retry shortly' },
  COORDINATION_UNAVAILABLE: { status: 503, message: 'the coordination store (Redis: records, locks, limits) did not answer; bytes received so far are kept, retry shortly' },
  WRITE_FAILED: { status: 500, message: 'storage write failed; bytes received so far are kept' },
  MALFORMED_REQUEST: { status: 400, message: 'malformed request' },
  AUTH_REQUIRED: { status: 401, message: 'authentication required: send Authorization: Bearer <token>' },
  AUTH_INVALID: { status: 401, message: 'the bearer token is not valid' },
  AUTH_EXPIRED: { status: 401, message: 'the bearer token has expired' },
  AUTH_UNAVAILABLE: { status: 503, message: "the identity provider's key set (AUTH_JWKS_URL) could not be fetched; retry shortly" },
  METRICS_TOKEN_REQUIRED: { status: 401, message: 'metrics require Authorization: Bearer <METRICS_TOKEN>' },
  TOKEN_SCOPE: { status: 403, message: 'this token does not allow this request' },
  UPLOAD_TOKEN_EXHAUSTED: { status: 403, message: 'the upload token has created as many uploads as it allows' },
  UPLOAD_TOKEN_SIZE_EXCEEDED: { status: 413, message: 'upload is larger than the upload token allows' },
  TYPE_NOT_ALLOWED: { status: 415, message: 'this media type is not allowed here (judged by the bytes, not the name); the upload was removed' },
  SIGNED_URL_INVALID: { status: 403, message: 'the signed URL is invalid or has expired' },
  SIGNING_NOT_CONFIGURED: { status: 501, message: 'signed URLs and upload tokens need SIGNING_SECRET' },
  RATE_LIMITED: { status: 429, message: 'too many requests for this identity; retry after the time in Retry-After' },
  QUOTA_BYTES_EXCEEDED: { status: 413, message: 'the owner\'s storage quota (QUOTA_BYTES) would be exceeded' },
  QUOTA_UPLOADS_EXCEEDED: { status: 403, message: 'the owner has as many unfinished uploads as QUOTA_UPLOADS allows' },
  INVALID_REQUEST_BODY: { status: 400, message: 'the request body is not valid JSON of the expected shape' },
  REQUEST_TOO_LARGE: { status: 413, message: 'the request body is too large for this route' },
  REQUEST_TIMEOUT: { status: 408, message: 'the request body did not arrive in time' },
  FILE_NOT_FOUND: { status: 404, message: 'file not found' },
  VERSION_NOT_FOUND: { status: 404, message: 'no such version of this file' },
  VERSION_IS_CURRENT: { status: 409, message: 'the current version is removed with the file (DELETE /api/files/:id), or restore another version first' },
  OPERATOR_REQUIRED: { status: 403, message: 'this route is the operator\'s: send Authorization: Bearer <OPERATOR_TOKEN> (set OPERATOR_TOKEN to enable it)' },
  INVALID_QUERY: { status: 400, message: 'a query parameter is not valid' },
  // Processing on request (server/src/process/).
  PROCESS_BUSY: { status: 409, message: 'a kind this request runs is already queued or running for this file; ask again once it has finished' },
  IDEMPOTENCY_KEY_REUSED: { status: 409, message: 'this Idempotency-Key named another request in the last 24 hours' },
  INVALID_IDEMPOTENCY_KEY: { status: 400, message: 'Idempotency-Key must be 1 to 255 visible ASCII characters' },
  PROCESS_JOB_NOT_FOUND: { status: 404, message: 'no such processing job for this file' },
  RESULT_VERSION_NOT_FOUND: { status: 404, message: 'no such version of this result' },
  PROCESSING_UNAVAILABLE: { status: 503, message: 'the processing queue did not take the request; send it again (with the same Idempotency-Key)' },
  // The operator's queue view (server/src/admin/).
  DEAD_LETTER_NOT_FOUND: { status: 404, message: 'no such dead letter' },
  DEAD_LETTER_NOT_RETRYABLE: { status: 409, message: 'this dead letter holds no readable event (a payload that failed to parse): there is no job to run again' },
  DEAD_LETTER_STALE: { status: 409, message: 'the upload was processed again since this job failed (a newer event): retrying the old job would overwrite the newer status' },
  QUEUE_UNAVAILABLE: { status: 503, message: 'the job queue (JetStream, or the directory queue) did not answer; retry shortly' },
  REPORT_NOT_FOUND: { status: 404, message: 'no analytics report of that day and format' },
  WEBHOOK_NOT_FOUND: { status: 404, message: 'webhook endpoint not found' },
  WEBHOOK_TARGET_REFUSED: { status: 400, message: 'the webhook URL is refused: it must be http(s) and resolve only to public addresses (private, loopback, link-local and metadata targets need WEBHOOK_ALLOW_PRIVATE=true)' },
  WEBHOOK_LIMIT: { status: 409, message: 'the owner has as many webhook endpoints as allowed; delete one first' },
  // Resumable Uploads for HTTP (the IETF draft, server/src/ietf/).
  DRAFT_VERSION_UNSUPPORTED: { status: 400, message: 'Upload-Draft-Interop-Version names a version this server does not serve (it serves 3 to 8)' },
  UPLOAD_COMPLETE_REQUIRED: { status: 400, message: 'Upload-Complete must be a structured boolean, ?0 or ?1 (Upload-Incomplete for interop version 3)' },
  PARTIAL_UPLOAD_TYPE_REQUIRED: { status: 415, message: 'an append must be Content-Type: application/partial-upload' },
  UPLOAD_COMPLETED: { status: 400, message: 'the upload is already complete and cannot be appended to' },
  INCONSISTENT_LENGTH: { status: 400, message: 'the length values given for this upload do not agree' },
  INTERNAL: { status: 500, message: 'internal server error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** An error with a catalogue code; `headers` are added to the error response. */
export class TusError extends Error {
  override name = 'TusError';
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    detail?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ? `${ERRORS[code].message}: ${detail}` : ERRORS[code].message);
    this.status = ERRORS[code].status;
  }
}

/** Creates a {@link TusError} for `code`. */
export function tusError(code: ErrorCode, detail?: string, headers?: Record<string, string>): TusError {
  return new TusError(code, detail, headers);
}
