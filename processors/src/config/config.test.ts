import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, parsePipelineConfig } from './config.js';
import { readEnv } from './env.js';

describe('parseConfig', () => {
  it('defaults to the embedded directory outbox and file status', () => {
    const c = parseConfig({ DATA_DIR: '/tmp/d' });
    expect(c.queue).toEqual({ kind: 'directory', dir: path.join('/tmp/d', 'events') });
    expect(c.status).toEqual({ kind: 'file', dir: path.join('/tmp/d', 'processing'), ttlMs: 30 * 86_400_000 });
    expect(c.priorityFromMetadata).toBe(true);
    expect(parseConfig({ PROCESSOR_PRIORITY_METADATA: 'false' }).priorityFromMetadata).toBe(false);
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
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL="loud" must be one of/],
    [{ PROCESSOR_PRIORITY_METADATA: 'maybe' }, /PROCESSOR_PRIORITY_METADATA="maybe" must be true or false/],
  ])('refuses %o', (raw, message) => {
    expect(() => parseConfig(raw)).toThrow(ConfigError);
    expect(() => parseConfig(raw)).toThrow(message);
  });

  it('media processors: defaults and parsed values', () => {
    const d = parseConfig({});
    expect(d.kinds).toEqual(['fingerprint', 'video', 'documents', 'generate']);
    expect(d.video).toEqual({ renditions: [720], previewFrames: 4, ffmpegThreads: 2, concurrency: 1, transcribeChunkSeconds: 600 });
    expect(d.documents).toEqual({ maxBytes: 64 * 1024 ** 2, maxTextBytes: 8 * 1024 ** 2 });
    expect(d.openai).toEqual({ apiKey: undefined, baseURL: undefined, model: 'gpt-4o-mini', transcribeModel: 'whisper-1', maxInputTokens: 12_000, timeoutMs: 120_000, maxRetries: 4, concurrency: 4 });
    const c = parseConfig({
      PROCESSOR_KINDS: 'generate, fingerprint', VIDEO_RENDITIONS: '480p,1080p,480', FFMPEG_THREADS: '0', TRANSCRIBE_CHUNK_DURATION: '5m',
      MAX_DOCUMENT_TEXT_BYTES: '1MiB', OPENAI_API_KEY: 'sk-x', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1/', OPENAI_MODEL: 'm', OPENAI_TIMEOUT: '30s',
    });
    expect(c.kinds).toEqual(['fingerprint', 'generate']);
    expect(c.video).toMatchObject({ renditions: [1080, 480], ffmpegThreads: 0, transcribeChunkSeconds: 300 });
    expect(c.documents.maxTextBytes).toBe(1024 ** 2);
    expect(c.openai).toMatchObject({ apiKey: 'sk-x', baseURL: 'http://127.0.0.1:9/v1', model: 'm', timeoutMs: 30_000 });
    expect(parseConfig({ VIDEO_RENDITIONS: 'none' }).video.renditions).toEqual([]);
  });

  it.each([
    [{ PROCESSOR_KINDS: 'fingerprint,thumbnails' }, /PROCESSOR_KINDS="fingerprint,thumbnails" must list some of fingerprint, video, documents, generate/],
    [{ VIDEO_RENDITIONS: '721p' }, /VIDEO_RENDITIONS entry "721p" must be an even height/],
    [{ VIDEO_RENDITIONS: '4320p' }, /VIDEO_RENDITIONS entry "4320p"/],
    [{ OPENAI_BASE_URL: 'api.openai.com' }, /OPENAI_BASE_URL="api.openai.com" must be an http\(s\) URL/],
    [{ TRANSCRIBE_CHUNK_DURATION: '2h' }, /TRANSCRIBE_CHUNK_DURATION must be at most 60m/],
    [{ VIDEO_PREVIEW_FRAMES: '50' }, /VIDEO_PREVIEW_FRAMES="50" must be an integer from 0 to 20/],
    [{ MAX_DOCUMENT_BYTES: 'lots' }, /MAX_DOCUMENT_BYTES="lots" is not a size/],
  ])('refuses media settings %o', (raw, message) => {
    expect(() => parseConfig(raw)).toThrow(message);
  });

  it('readEnv keeps only known, non-empty variables', () => {
    expect(readEnv({ NATS_URL: 'nats://x', REDIS_URL: '  ', OTHER: '1' })).toEqual({ NATS_URL: 'nats://x' });
  });
});

describe('parsePipelineConfig', () => {
  it('parses the queue, status, S3 reads and data directory, and nothing of the runtime', () => {
    const p = parsePipelineConfig({ DATA_DIR: '/tmp/d', NATS_URL: 'nats://n:4222', PROCESSOR_CONCURRENCY: 'not read', S3_ENDPOINT: 'http://s3:9000' });
    expect(p).toEqual({
      dataDir: '/tmp/d',
      queue: { kind: 'jetstream', servers: ['nats://n:4222'], streams: expect.objectContaining({ retention: 'limits' }) },
      status: { kind: 'file', dir: '/tmp/d/processing', ttlMs: 30 * 86_400_000 },
      s3: { endpoint: 'http://s3:9000', region: 'us-east-1', credentials: undefined, forcePathStyle: true },
      tracing: null,
      breakers: { failureThreshold: 5, windowMs: 30_000, openMs: 15_000 },
      redisGuard: { commandTimeoutMs: 2000, offlineQueueMax: 1000 },
    });
    expect(() => parsePipelineConfig({ NATS_STREAM_MAX_AGE: '1d' })).toThrow(/NATS_STREAM_MAX_AGE set but NATS_URL is not/);
  });
});
