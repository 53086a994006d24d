import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.js';

describe('parseConfig', () => {
  it('fills documented defaults', () => {
    const c = parseConfig({});
    expect(c.port).toBe(1080);
    expect(c.host).toBe('0.0.0.0');
    expect(c.tusPath).toBe('/files');
    expect(c.maxSize).toBe(16 * 1024 ** 3);
    expect(c.uploadExpiryMs).toBe(86_400_000);
    expect(c.corsOrigins).toEqual(['*']);
    expect(c.shutdownTimeoutMs).toBe(10_000);
    expect(c.logLevel).toBe('info');
    expect(c.fsync).toBe(true);
  });

  it('flushes in the background by default (FSYNC_INTERVAL=1s); 0 flushes each PATCH', () => {
    expect(parseConfig({})).toMatchObject({ fsync: true, fsyncIntervalMs: 1000 });
    expect(parseConfig({ FSYNC: 'false' })).toMatchObject({ fsync: false, fsyncIntervalMs: 0 });
    expect(parseConfig({ FSYNC_INTERVAL: '1s' })).toMatchObject({ fsync: true, fsyncIntervalMs: 1000 });
    expect(parseConfig({ FSYNC_INTERVAL: '0' })).toMatchObject({ fsync: true, fsyncIntervalMs: 0 });
    expect(parseConfig({ FSYNC_INTERVAL: '250ms' }).fsyncIntervalMs).toBe(250);
    expect(parseConfig({ FSYNC: 'false' }).fsync).toBe(false);
  });

  it('parses sizes, durations and lists', () => {
    const c = parseConfig({ MAX_SIZE: '512MiB', UPLOAD_EXPIRY: '30m', CORS_ORIGINS: 'https://a.example, http://b.example:8080', TUS_PATH: '/up/' });
    expect(c.maxSize).toBe(512 * 1024 ** 2);
    expect(c.uploadExpiryMs).toBe(30 * 60_000);
    expect(c.corsOrigins).toEqual(['https://a.example', 'http://b.example:8080']);
    expect(c.tusPath).toBe('/up');
  });

  it.each([
    [{ PORT: '70000' }, /PORT/],
    [{ PORT: 'abc' }, /PORT/],
    [{ MAX_SIZE: '-1' }, /MAX_SIZE/],
    [{ MAX_SIZE: 'lots' }, /MAX_SIZE/],
    [{ UPLOAD_EXPIRY: 'soon' }, /UPLOAD_EXPIRY/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ TUS_PATH: 'files' }, /TUS_PATH/],
    [{ CORS_ORIGINS: 'not an origin' }, /CORS_ORIGINS/],
    [{ SHUTDOWN_TIMEOUT_MS: '1.5' }, /SHUTDOWN_TIMEOUT_MS/],
    [{ FSYNC: 'maybe' }, /FSYNC/],
    [{ FSYNC: 'false', FSYNC_INTERVAL: '1s' }, /FSYNC_INTERVAL.*FSYNC=false/],
    [{ FSYNC_INTERVAL: '2m' }, /FSYNC_INTERVAL/],
    [{ S3_BUCKET: 'b' }, /REDIS_URL.*SINGLE_NODE=true/],
    [{ S3_ENDPOINT: 'http://127.0.0.1:9000' }, /S3_BUCKET/],
    [{ S3_BUCKET: 'b', SINGLE_NODE: 'true', S3_ACCESS_KEY_ID: 'k' }, /S3_SECRET_ACCESS_KEY/],
    [{ S3_BUCKET: 'b', SINGLE_NODE: 'true', S3_ENDPOINT: 'localhost:9000' }, /S3_ENDPOINT/],
    [{ S3_BUCKET: 'b', SINGLE_NODE: 'true', S3_PART_SIZE: '1MiB' }, /S3_PART_SIZE/],
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL/],
    [{ REDIS_URL: 'redis://h', LOCK_TTL: '100ms' }, /LOCK_TTL/],
    [{ SINGLE_NODE: 'perhaps' }, /SINGLE_NODE/],
  ])('refuses %j with a message naming the variable', (raw, name) => {
    expect(() => parseConfig(raw)).toThrow(ConfigError);
    expect(() => parseConfig(raw)).toThrow(name);
  });

  it('chooses the embedded default without S3 and Redis variables, and the distributed settings with them', () => {
    const embedded = parseConfig({ DATA_DIR: '/srv/tus' });
    expect(embedded.storage).toEqual({ kind: 'file' });
    expect(embedded.coordination).toEqual({ kind: 'process' });
    expect(embedded.stagingDir).toBe('/srv/tus/staging');
    const c = parseConfig({
      S3_BUCKET: 'uploads', S3_ENDPOINT: 'http://127.0.0.1:9000', S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 's',
      S3_PART_SIZE: '32MiB', REDIS_URL: 'redis://127.0.0.1:6379/2', LOCK_TTL: '3s', S3_STAGING_DIR: '/fast/staging',
    });
    expect(c.storage).toEqual({
      kind: 's3', bucket: 'uploads', endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', credentials: { accessKeyId: 'k', secretAccessKey: 's' },
      forcePathStyle: true, partSize: 32 * 1024 ** 2, partConcurrency: 8, uniformParts: false, requestTimeoutMs: 30_000,
    });
    expect(c.coordination).toEqual({ kind: 'redis', url: 'redis://127.0.0.1:6379/2', prefix: 'tus:', lockTtlMs: 3000 });
    expect(c.stagingDir).toBe('/fast/staging');
    // AWS itself: no endpoint, virtual-hosted addressing, credentials from the standard chain.
    const aws = parseConfig({ S3_BUCKET: 'b', SINGLE_NODE: 'true' }).storage;
    if (aws.kind !== 's3') throw new Error('expected S3 storage');
    expect(aws.forcePathStyle).toBe(false);
    expect(aws.credentials).toBeUndefined();
    expect(aws.uniformParts).toBe(false);
  });

  it('a catalogue per node under shared Redis keeps the records, and refuses what needs one catalogue', () => {
    expect(parseConfig({ DATA_DIR: '/srv/tus' }).catalogueRecordGraceMs).toBe(3_600_000);
    const shared = parseConfig({ REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: 'postgres://db/tus', CATALOGUE_RECORD_GRACE: '5m', FILE_POLICIES: 'old: delete=30d' });
    expect([shared.catalogue.kind, shared.catalogueRecordGraceMs]).toEqual(['postgres', 300_000]);
    const perNode = parseConfig({ REDIS_URL: 'redis://127.0.0.1:6379', DATA_DIR: '/srv/tus' });
    expect([perNode.catalogue.kind, perNode.catalogueRecordGraceMs]).toEqual(['sqlite', Infinity]);
    expect(() => parseConfig({ REDIS_URL: 'redis://127.0.0.1:6379', CATALOGUE_RECORD_GRACE: '5m' })).toThrow(/CATALOGUE_RECORD_GRACE .*DATABASE_URL/);
    expect(() => parseConfig({ REDIS_URL: 'redis://127.0.0.1:6379', FILE_POLICIES: 'old: delete=30d' })).toThrow(/FILE_POLICIES .*DATABASE_URL/);
  });

  it('uses uniform parts on Cloudflare R2 unless told otherwise, and wherever told to', () => {
    const r2 = { S3_BUCKET: 'b', SINGLE_NODE: 'true', S3_ENDPOINT: 'https://0123abcd.r2.cloudflarestorage.com' };
    const uniformParts = (raw: Parameters<typeof parseConfig>[0]) => {
      const storage = parseConfig(raw).storage;
      return storage.kind === 's3' ? storage.uniformParts : undefined;
    };
    expect(uniformParts(r2)).toBe(true);
    expect(uniformParts({ ...r2, S3_UNIFORM_PARTS: 'false' })).toBe(false);
    expect(uniformParts({ S3_BUCKET: 'b', SINGLE_NODE: 'true', S3_ENDPOINT: 'http://minio:9000', S3_UNIFORM_PARTS: 'true' })).toBe(true);
    expect(() => parseConfig({ ...r2, S3_UNIFORM_PARTS: 'sometimes' })).toThrow(/S3_UNIFORM_PARTS/);
  });

  it('parses all of the processors\' settings only when it runs them in its process', () => {
    const distributed = parseConfig({ NATS_URL: 'nats://127.0.0.1:4222', PROCESSOR_CONCURRENCY: '0', DATA_DIR: '/srv/tus' });
    expect(distributed.processors).toEqual({ inProcess: false });
    expect(distributed.processing.queue).toMatchObject({ kind: 'jetstream', servers: ['nats://127.0.0.1:4222'] });
    expect(distributed.processing.status).toMatchObject({ kind: 'file', dir: '/srv/tus/processing' });
    expect(() => parseConfig({ PROCESSOR_CONCURRENCY: '0' })).toThrow(/PROCESSOR_CONCURRENCY/);
    const embedded = parseConfig({ DATA_DIR: '/srv/tus', PROCESSOR_CONCURRENCY: '2' });
    if (!embedded.processors.inProcess) throw new Error('expected the runtime in process');
    expect(embedded.processors.runtime.concurrency).toBe(2);
    expect(embedded.processing.queue).toEqual({ kind: 'directory', dir: '/srv/tus/events' });
    // The pipeline's own contradictions are refused either way.
    expect(() => parseConfig({ NATS_STREAM_MAX_AGE: '1d', PROCESSORS_IN_PROCESS: 'false' })).toThrow(/NATS_STREAM_MAX_AGE set but NATS_URL is not/);
  });
});
