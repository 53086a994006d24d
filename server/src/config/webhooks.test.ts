import { describe, expect, it } from 'vitest';
import { ConfigError } from '@tus-edge/processors';
import { parseWebhooks } from './webhooks.js';

describe('webhook configuration', () => {
  it('has documented defaults', () => {
    expect(parseWebhooks({})).toEqual({
      operatorUrls: [], allowPrivate: false, timeoutMs: 10_000, retryForMs: 86_400_000, backoffBaseMs: 10_000, backoffMaxMs: 3_600_000,
      concurrency: 8, pollIntervalMs: 1000,
    });
  });

  it('reads operator endpoints and the retry schedule', () => {
    const c = parseWebhooks({
      WEBHOOK_URLS: 'https://a.example/h, http://b.example/h', WEBHOOK_SECRET: 'x'.repeat(24), WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_TIMEOUT: '1s', WEBHOOK_RETRY_FOR: '1h', WEBHOOK_BACKOFF_BASE: '100ms', WEBHOOK_BACKOFF_MAX: '2s',
    });
    expect(c).toMatchObject({ operatorUrls: ['https://a.example/h', 'http://b.example/h'], operatorSecret: 'x'.repeat(24), allowPrivate: true, timeoutMs: 1000, retryForMs: 3_600_000, backoffBaseMs: 100, backoffMaxMs: 2000 });
  });

  it('refuses contradictions, naming the variables', () => {
    expect(() => parseWebhooks({ WEBHOOK_URLS: 'https://a.example/h' })).toThrow(/WEBHOOK_SECRET/);
    expect(() => parseWebhooks({ WEBHOOK_SECRET: 'x'.repeat(24) })).toThrow(/WEBHOOK_URLS/);
    expect(() => parseWebhooks({ WEBHOOK_URLS: 'https://a.example/h', WEBHOOK_SECRET: 'short' })).toThrow(/at least 24/);
    expect(() => parseWebhooks({ WEBHOOK_URLS: 'ftp://a.example/h', WEBHOOK_SECRET: 'x'.repeat(24) })).toThrow(ConfigError);
    expect(() => parseWebhooks({ WEBHOOK_BACKOFF_BASE: '10s', WEBHOOK_BACKOFF_MAX: '1s' })).toThrow(/WEBHOOK_BACKOFF_MAX/);
  });
});
