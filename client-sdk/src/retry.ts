import { isRetryableStatus, parseErrorBody } from './errors.js';

/**
 * How failed requests are retried.
 * @example
 * createClient({ endpoint, retry: { retries: 20, maxDelayMs: 60_000 } }); // patient on bad networks
 */
export interface RetryPolicy {
  /** Attempts after the first failure before giving up (default 8). */
  retries: number;
  /** First delay; each next one doubles (default 500 ms). */
  baseDelayMs: number;
  /** Cap of one delay, also of a server's `Retry-After` (default 30 s). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 8, baseDelayMs: 500, maxDelayMs: 30_000 };

/** Delay before retry number `attempt` (0-based): base × 2^attempt, capped, with ±20 % jitter. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const plain = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(plain * (0.8 + 0.4 * random()));
}

/** `Retry-After` (seconds or an HTTP date) in milliseconds, or undefined when absent or malformed. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/** What the retry decision sees of a failed request (tus-js-client's DetailedError, narrowed). */
export interface FailedRequest {
  status: number;
  retryAfter?: string | null;
  body?: string | null;
}

/** Answers the server sends for a request that may simply be sent again. */
const RETRYABLE_CODES = new Set(['UPLOAD_INTERRUPTED', 'OFFSET_MISMATCH', 'LOCK_TIMEOUT']);

/**
 * Whether a failed request should be retried, and after how long: network errors, 408, 409, 423,
 * 429 and 5xx are retried (plus the server's `UPLOAD_INTERRUPTED`), after the backoff delay or the
 * server's `Retry-After`, whichever is longer (capped at `maxDelayMs`). A 401 is retried at once when
 * `canRefreshToken` (the caller drops its token first).
 */
export function retryDecision(
  failed: FailedRequest,
  attempt: number,
  policy: RetryPolicy,
  online: boolean,
  canRefreshToken: boolean,
): { retry: boolean; delayMs: number } {
  if (attempt >= policy.retries) return { retry: false, delayMs: 0 };
  const { status } = failed;
  if (status === 401) return canRefreshToken ? { retry: true, delayMs: 0 } : { retry: false, delayMs: 0 };
  const code = parseErrorBody(failed.body)?.code;
  const retry = (status === 0 ? online : isRetryableStatus(status)) || status === 409 || (code !== undefined && RETRYABLE_CODES.has(code));
  if (!retry) return { retry: false, delayMs: 0 };
  const after = parseRetryAfter(failed.retryAfter);
  const delayMs = Math.min(policy.maxDelayMs, Math.max(backoffDelay(policy, attempt), after ?? 0));
  return { retry: true, delayMs };
}
