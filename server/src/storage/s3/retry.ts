import fs from 'node:fs';
import type { Readable } from 'node:stream';

/** S3 error names that mean "try again": the store is busy or briefly unwell, nothing was refused. */
const TRANSIENT_NAMES = new Set([
  'SlowDown', 'ServiceUnavailable', 'InternalError', 'RequestTimeout', 'RequestTimeoutException',
  'Throttling', 'ThrottlingException', 'TooManyRequestsException', 'TimeoutError',
]);
/** Network failures between this node and the store. */
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED']);

/**
 * True for an S3 failure worth retrying: 5xx (other than 501), 429, throttling, timeouts and network
 * errors. Real S3 answers `503 SlowDown` now and then under load, and Swift answers
 * `503 ServiceUnavailable` when a backend is slow; clients are expected to retry both.
 */
export function isTransient(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; code?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  if (!e) return false;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && ((status >= 500 && status !== 501) || status === 429)) return true;
  return TRANSIENT_NAMES.has(e.name ?? '') || TRANSIENT_NAMES.has(e.Code ?? '') || TRANSIENT_CODES.has(e.code ?? '');
}

export interface RetryOptions {
  /** Tries in all (the first one included). */
  attempts: number;
  /** Wait before the first retry; doubles for each one after it (with jitter). */
  baseDelayMs: number;
  /** Told about each failure that is retried (for metrics and logs). */
  onRetry?: (err: unknown) => void;
}

/** Four tries over about 2 s: long enough for a store's hiccup, short against a PATCH's lock. */
export const PART_RETRY: RetryOptions = { attempts: 4, baseDelayMs: 150 };

/**
 * Runs `attempt` until it succeeds, fails with an error that is not {@link isTransient}, or has been
 * tried `attempts` times; `attempt` gets the 0-based try number. The last error is thrown as it came.
 */
export async function retrying<T>(attempt: (n: number) => Promise<T>, options: RetryOptions = PART_RETRY): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (n + 1 >= options.attempts || !isTransient(err)) throw err;
      options.onRetry?.(err);
      const delay = options.baseDelayMs * 2 ** n;
      await new Promise((resolve) => setTimeout(resolve, delay / 2 + Math.random() * delay));
    }
  }
}

/**
 * Sends `body` with `send`, retrying transient failures. The SDK never retries a streamed body (it
 * cannot rewind it), so a retry reads the staged part file again; buffers are sent as they are. A
 * stream that does not come from a file cannot be sent twice and gets one try.
 */
export async function sendWithRetries<T>(
  body: Readable | Buffer, send: (body: Readable | Buffer) => Promise<T>, options: RetryOptions = PART_RETRY,
): Promise<T> {
  const path = Buffer.isBuffer(body) ? undefined : (body as Partial<fs.ReadStream>).path;
  const again = Buffer.isBuffer(body) ? () => body : typeof path === 'string' ? () => fs.createReadStream(path) : undefined;
  let current = body;
  return retrying(async (n) => {
    if (n > 0 && again) {
      if (!Buffer.isBuffer(current)) current.destroy();
      current = again();
    }
    return send(current);
  }, again ? options : { ...options, attempts: 1 });
}
