import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.js';
import { readEnv } from './env.js';

describe('parseConfig', () => {
  it('defaults to the embedded directory outbox and file status', () => {
    const c = parseConfig({ DATA_DIR: '/tmp/d' });
    expect(c.queue).toEqual({ kind: 'directory', dir: path.join('/tmp/d', 'events') });
    expect(c.status).toEqual({ kind: 'file', dir: path.join('/tmp/d', 'processing') });
    expect(c).toMatchObject({ port: 1081, concurrency: 4, maxDeliver: 5, ackWaitMs: 30_000, backoff: { baseMs: 1000, maxMs: 300_000 } });
  });

  it('uses JetStream and Redis when their URLs are set', () => {
    const c = parseConfig({ NATS_URL: 'nats://a:4222,nats://b:4222', REDIS_URL: 'redis://r:6379', NATS_STREAM_MAX_AGE: '1d', NATS_STREAM_REPLICAS: '3' });
    expect(c.queue).toMatchObject({ kind: 'jetstream', servers: ['nats://a:4222', 'nats://b:4222'], streams: { maxAgeMs: 86_400_000, replicas: 3, retention: 'limits' } });
    expect(c.status).toMatchObject({ kind: 'redis', url: 'redis://r:6379', prefix: 'tus:' });
  });

  it.each([
    [{ PROCESSOR_CONCURRENCY: '0' }, /PROCESSOR_CONCURRENCY="0" must be an integer from 1/],
    [{ PROCESSOR_ACK_WAIT: 'soon' }, /PROCESSOR_ACK_WAIT="soon" is not a duration/],
    [{ PROCESSOR_ACK_WAIT: '10ms' }, /PROCESSOR_ACK_WAIT="10ms" must be at least 300 ms/],
    [{ NATS_URL: 'http://x' }, /NATS_URL entry "http:\/\/x" must use nats or tls/],
    [{ REDIS_URL: 'nope' }, /REDIS_URL entry "nope" is not a URL/],
    [{ NATS_STREAM_MAX_AGE: '1d' }, /NATS_STREAM_MAX_AGE set but NATS_URL is not/],
    [{ NATS_URL: 'nats://x', NATS_STREAM_RETENTION: 'forever' }, /NATS_STREAM_RETENTION="forever" must be one of/],
    [{ NATS_URL: 'nats://x', NATS_STREAM_MAX_AGE: '1m', NATS_DUPLICATE_WINDOW: '2m' }, /NATS_DUPLICATE_WINDOW must not be longer than NATS_STREAM_MAX_AGE/],
    [{ PROCESSOR_BACKOFF_BASE: '10s', PROCESSOR_BACKOFF_MAX: '1s' }, /PROCESSOR_BACKOFF_MAX must not be shorter than PROCESSOR_BACKOFF_BASE/],
    [{ PROCESSOR_STATUS_TTL: '1d' }, /PROCESSOR_STATUS_TTL set but REDIS_URL is not/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL="loud" must be one of/],
  ])('refuses %o', (raw, message) => {
    expect(() => parseConfig(raw)).toThrow(ConfigError);
    expect(() => parseConfig(raw)).toThrow(message);
  });

  it('readEnv keeps only known, non-empty variables', () => {
    expect(readEnv({ NATS_URL: 'nats://x', REDIS_URL: '  ', OTHER: '1' })).toEqual({ NATS_URL: 'nats://x' });
  });
});
