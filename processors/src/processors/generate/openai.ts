import { createRequire } from 'node:module';
import type OpenAI from 'openai';
import type { OpenAIConfig } from '../../config/config.js';
import { ProcessingError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { CircuitOpenError, type CircuitBreaker } from '../../common/breaker.js';
import type { Bulkhead } from '../../common/bulkhead.js';
import { inSpan } from '../../tracing/spans.js';

/**
 * The SDK client, or null without `OPENAI_API_KEY`. The SDK's own retries are off (`maxRetries: 0`):
 * {@link withRetries} retries instead, so that `Retry-After` is honoured and every attempt is logged.
 */
const require = createRequire(import.meta.url);

/**
 * The openai SDK, loaded on first use (~11 MB of memory a server without a key should not carry).
 * Always through this one (CommonJS) copy, so its error classes are the ones `instanceof` checks see.
 */
export const openaiSdk = (): typeof import('openai') => require('openai') as typeof import('openai');

export function createOpenAI(config: OpenAIConfig): OpenAI | null {
  if (!config.apiKey) return null;
  return new (openaiSdk().OpenAI)({ apiKey: config.apiKey, baseURL: config.baseURL, maxRetries: 0, timeout: config.timeoutMs });
}

export interface RetryOptions {
  /** Retries after the first attempt (`OPENAI_MAX_RETRIES`). */
  maxRetries: number;
  signal: AbortSignal;
  logger?: Logger;
  /** Delay before retry n (1, 2, …) when the answer has no `Retry-After`: base × 2^(n−1), capped. Default base 1 s. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A `Retry-After` longer than this is not waited for here: the job is retried later instead. Default 60 s. */
  maxRetryAfterMs?: number;
  /** The OpenAI client's circuit breaker and bulkhead, shared by every job of this process. */
  guard?: OpenAIGuard;
}

/**
 * What stands between jobs and the OpenAI API: a bulkhead (at most `limit` requests at once, so a slow
 * API cannot hold every worker) and a circuit breaker (429 / 5xx / network failures open it; while open,
 * calls fail at once with {@link CircuitOpenError} and the job waits instead of spending retries).
 */
export interface OpenAIGuard {
  breaker: CircuitBreaker;
  bulkhead: Bulkhead;
}

/** One attempt through the guard, in an `openai <what>` span. */
function guardedAttempt<T>(what: string, call: (signal: AbortSignal) => Promise<T>, options: RetryOptions, n: number): Promise<T> {
  const traced = () =>
    inSpan(`openai ${what.replace(/ \(.*|\s+of\s+.*$/, '')}`, { attributes: { 'openai.request': what, 'openai.attempt': n } }, () => call(options.signal));
  const guard = options.guard;
  if (!guard) return traced();
  return guard.bulkhead.run(() => guard.breaker.run(traced, isRetryable), options.signal);
}

/** 429, 408, 409 and 5xx answers and network errors may succeed later; other 4xx never will. */
export function isRetryable(err: unknown): boolean {
  const { APIConnectionError, APIError, APIUserAbortError } = openaiSdk();
  if (err instanceof APIUserAbortError) return false;
  if (err instanceof APIConnectionError) return true;
  if (err instanceof APIError) {
    const s = err.status ?? 0;
    return s === 408 || s === 409 || s === 429 || s >= 500;
  }
  return false;
}

/** `retry-after-ms`, or `Retry-After` in seconds or as an HTTP date; null when absent or unreadable. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | null {
  const ms = headers?.get('retry-after-ms');
  if (ms && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const value = headers?.get('retry-after')?.trim();
  if (!value) return null;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** Describes an API error for a status reason (no request body, no key). */
export function describeApiError(err: unknown): string {
  const { APIError } = openaiSdk();
  if (err instanceof APIError && err.status) return `${err.status} ${err.message.replace(/^\d+\s*/, '')}`.slice(0, 300);
  return ((err as Error)?.message ?? String(err)).slice(0, 300);
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Runs one API call with retries on 429 / 5xx / network errors. The wait is the answer's `Retry-After`
 * when it has one (up to `maxRetryAfterMs`), else exponential backoff. Exhausted retries, or a longer
 * `Retry-After`, end in a retryable `OPENAI_UNAVAILABLE` (the job is retried with the runtime's
 * backoff); other API errors in a permanent `OPENAI_REJECTED`.
 */
export async function withRetries<T>(what: string, call: (signal: AbortSignal) => Promise<T>, options: RetryOptions): Promise<T> {
  const base = options.baseDelayMs ?? 1000;
  const cap = options.maxDelayMs ?? 30_000;
  const maxRetryAfter = options.maxRetryAfterMs ?? 60_000;
  for (let attempt = 1; ; attempt++) {
    options.signal.throwIfAborted();
    try {
      return await guardedAttempt(what, call, options, attempt);
    } catch (err) {
      if (options.signal.aborted) throw options.signal.reason;
      if (err instanceof CircuitOpenError) throw err; // the job waits for the breaker (see executeJob)
      if (!isRetryable(err)) {
        if (err instanceof openaiSdk().APIError) throw new ProcessingError('OPENAI_REJECTED', `${what}: ${describeApiError(err)}`, { cause: err });
        throw err;
      }
      const breaker = options.guard?.breaker;
      if (breaker && breaker.state() !== 'closed') {
        // This failure opened the breaker (or was its failed probe): the job waits for it in place
        // instead of spending its retries and deliveries on an API that is down.
        throw new CircuitOpenError(breaker.service, Math.max(1, breaker.retryAfterMs()));
      }
      const after = err instanceof openaiSdk().APIError ? retryAfterMs(err.headers) : null;
      if (attempt > options.maxRetries || (after !== null && after > maxRetryAfter)) {
        const why = after !== null && after > maxRetryAfter ? `, Retry-After ${Math.round(after / 1000)} s` : ` after ${attempt} attempts`;
        throw new ProcessingError('OPENAI_UNAVAILABLE', `${what}: ${describeApiError(err)}${why}`, { cause: err });
      }
      const delay = after ?? Math.min(cap, base * 2 ** (attempt - 1));
      options.logger?.warn('openai call failed; retrying', { what, attempt, delayMs: delay, err: describeApiError(err) });
      await sleep(delay, options.signal);
    }
  }
}
