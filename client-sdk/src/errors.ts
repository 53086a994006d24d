/**
 * Errors as typed values. Every failure the SDK reports is a {@link TusEdgeError} whose `code` is the
 * server's catalogue code when the server answered one (`OFFSET_MISMATCH`, `MAX_SIZE_EXCEEDED`,
 * `UPLOAD_NOT_FOUND`, ...), or one of the client codes below.
 */

/** Codes the SDK itself produces, besides the server's catalogue codes. */
export type ClientErrorCode =
  /** No answer: connection refused, reset, offline, CORS refusal. */
  | 'NETWORK'
  /** The upload or the watch was aborted by the caller. */
  | 'ABORTED'
  /** The token callback failed, or the server refused the token after a refresh. */
  | 'AUTH_FAILED'
  /** `createClient` was given unusable options (no endpoint). */
  | 'INVALID_OPTIONS'
  /** tus-js-client refused before any request (a source it cannot read, contradictory options). */
  | 'UPLOAD_FAILED';

/**
 * Anything the SDK rejects with.
 * @example
 * handle.done.catch((err) => {
 *   if (err instanceof TusEdgeError) console.log(err.code, err.status, err.retryable); // 'MAX_SIZE_EXCEEDED' 413 false
 * });
 */
export class TusEdgeError extends Error {
  /**
   * Server catalogue code (`OFFSET_MISMATCH`, ...), a {@link ClientErrorCode}, or `HTTP_<status>` when
   * the server answered an error without a catalogue code (a proxy's 502, say).
   */
  readonly code: string;
  /** HTTP status of the answer that caused it, when there was one. */
  readonly status: number | undefined;
  /** Whether trying again later can succeed (network, 5xx, 423, 429). */
  readonly retryable: boolean;

  constructor(code: string, message: string, options: { status?: number; retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TusEdgeError';
    this.code = code;
    this.status = options.status;
    this.retryable = options.retryable ?? isRetryableStatus(options.status);
  }
}

/** Statuses worth trying again: none (network), 408, 423 (locked), 429, 5xx. */
export function isRetryableStatus(status: number | undefined): boolean {
  return status === undefined || status === 0 || status === 408 || status === 423 || status === 429 || status >= 500;
}

/** The `{ error: { code, message } }` body the server answers with, if that is what `body` is. */
export function parseErrorBody(body: string | undefined | null): { code: string; message: string } | undefined {
  if (!body) return undefined;
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    const code = parsed.error?.code;
    if (typeof code !== 'string') return undefined;
    return { code, message: typeof parsed.error?.message === 'string' ? parsed.error.message : code };
  } catch {
    return undefined;
  }
}

/** Builds the error for an HTTP answer that was not ok. */
export function errorFromResponse(status: number, body: string | undefined | null, what: string): TusEdgeError {
  const known = parseErrorBody(body);
  if (known) return new TusEdgeError(known.code, `${what}: ${known.message}`, { status });
  return new TusEdgeError(status === 401 || status === 403 ? 'AUTH_FAILED' : `HTTP_${status}`, `${what}: HTTP ${status}`, { status });
}

/** Turns whatever tus-js-client, fetch or a callback threw into a {@link TusEdgeError}. */
export function toTusEdgeError(err: unknown, what = 'upload'): TusEdgeError {
  if (err instanceof TusEdgeError) return err;
  const detailed = err as { originalResponse?: { getStatus(): number; getBody(): string } | null; originalRequest?: unknown; message?: string };
  const res = detailed?.originalResponse;
  if (res) return errorFromResponse(res.getStatus(), safeBody(res), what);
  if ((err as Error)?.name === 'AbortError') return new TusEdgeError('ABORTED', `${what}: aborted`, { retryable: false, cause: err });
  const message = err instanceof Error ? err.message : String(err);
  return new TusEdgeError('NETWORK', `${what}: ${message}`, { cause: err });
}

function safeBody(res: { getBody(): string }): string | undefined {
  try {
    return res.getBody();
  } catch {
    return undefined;
  }
}
