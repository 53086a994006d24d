import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, parseDuration, parseSize } from './config.js';

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
    expect(embedded.s3).toBeUndefined();
    expect(embedded.redis).toBeUndefined();
    expect(embedded.stagingDir).toBe('/srv/tus/staging');
    const c = parseConfig({
      S3_BUCKET: 'uploads', S3_ENDPOINT: 'http://127.0.0.1:9000', S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 's',
      S3_PART_SIZE: '32MiB', REDIS_URL: 'redis://127.0.0.1:6379/2', LOCK_TTL: '3s', S3_STAGING_DIR: '/fast/staging',
    });
    expect(c.s3).toEqual({
      bucket: 'uploads', endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', credentials: { accessKeyId: 'k', secretAccessKey: 's' },
      forcePathStyle: true, partSize: 32 * 1024 ** 2, partConcurrency: 8, uniformParts: false, requestTimeoutMs: 30_000,
    });
    expect(c.redis).toEqual({ url: 'redis://127.0.0.1:6379/2', prefix: 'tus:', lockTtlMs: 3000 });
    expect(c.stagingDir).toBe('/fast/staging');
    // AWS itself: no endpoint, virtual-hosted addressing, credentials from the standard chain.
    const aws = parseConfig({ S3_BUCKET: 'b', SINGLE_NODE: 'true' });
    expect(aws.s3?.forcePathStyle).toBe(false);
    expect(aws.s3?.credentials).toBeUndefined();
    expect(aws.s3?.uniformParts).toBe(false);
  });

  it('uses uniform parts on Cloudflare R2 unless told otherwise, and wherever told to', () => {
    const r2 = { S3_BUCKET: 'b', SINGLE_NODE: 'true', S3_ENDPOINT: 'https://0123abcd.r2.cloudflarestorage.com' };
    expect(parseConfig(r2).s3?.uniformParts).toBe(true);
    expect(parseConfig({ ...r2, S3_UNIFORM_PARTS: 'false' }).s3?.uniformParts).toBe(false);
    expect(parseConfig({ S3_BUCKET: 'b', SINGLE_NODE: 'true', S3_ENDPOINT: 'http://minio:9000', S3_UNIFORM_PARTS: 'true' }).s3?.uniformParts).toBe(true);
    expect(() => parseConfig({ ...r2, S3_UNIFORM_PARTS: 'sometimes' })).toThrow(/S3_UNIFORM_PARTS/);
  });

  it('parses units', () => {
    expect(parseSize('X', '1k')).toBe(1024);
    expect(parseSize('X', '2GiB')).toBe(2 * 1024 ** 3);
    expect(parseDuration('X', '1500')).toBe(1500);
    expect(parseDuration('X', '7d')).toBe(7 * 86_400_000);
  });
});
