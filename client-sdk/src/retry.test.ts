import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_RETRY, parseRetryAfter, retryDecision } from './retry.js';

const policy = { retries: 4, baseDelayMs: 100, maxDelayMs: 5000 };
const body = (code: string) => JSON.stringify({ error: { code, message: code } });

describe('retries', () => {
  it('backs off exponentially with jitter, capped', () => {
    expect(backoffDelay(policy, 0, () => 0.5)).toBe(100);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(800);
    expect(backoffDelay(policy, 10, () => 0.5)).toBe(5000);
    expect(backoffDelay(policy, 0, () => 0)).toBe(80);
    expect(backoffDelay(policy, 0, () => 1)).toBe(120);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('0.5')).toBe(500);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('retries network errors, 5xx, 409, 423, 429 and UPLOAD_INTERRUPTED; not other 4xx', () => {
    for (const status of [0, 500, 502, 503, 409, 423, 429, 408]) expect(retryDecision({ status }, 0, policy, true, false).retry, String(status)).toBe(true);
    for (const status of [400, 403, 404, 410, 413, 460]) expect(retryDecision({ status }, 0, policy, true, false).retry, String(status)).toBe(false);
    expect(retryDecision({ status: 400, body: body('UPLOAD_INTERRUPTED') }, 0, policy, true, false).retry).toBe(true);
    expect(retryDecision({ status: 0 }, 0, policy, false, false).retry).toBe(false);
    expect(retryDecision({ status: 503 }, 4, policy, true, false).retry).toBe(false);
  });

  it('waits the longer of the backoff and Retry-After, at most maxDelayMs', () => {
    expect(retryDecision({ status: 503, retryAfter: '2' }, 0, policy, true, false).delayMs).toBe(2000);
    expect(retryDecision({ status: 429, retryAfter: '600' }, 0, policy, true, false).delayMs).toBe(5000);
    const plain = retryDecision({ status: 503 }, 1, policy, true, false).delayMs;
    expect(plain).toBeGreaterThanOrEqual(160);
    expect(plain).toBeLessThanOrEqual(240);
  });

  it('retries a 401 at once only when a fresh token can be had', () => {
    expect(retryDecision({ status: 401 }, 0, DEFAULT_RETRY, true, true)).toEqual({ retry: true, delayMs: 0 });
    expect(retryDecision({ status: 401 }, 0, DEFAULT_RETRY, true, false).retry).toBe(false);
  });
});
