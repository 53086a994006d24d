import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.js';
import { cdnAllowed, parseLifecycle, parsePolicies, policyMatches, typeMatches } from './lifecycle.js';

describe('FILE_POLICIES', () => {
  it('parses policies with types, tags, durations in short units and cdn', () => {
    const policies = parsePolicies(' videos: type=video/* cold=30s cdn ; scratch: tag=tmp tag=draft delete=12h;pdf: type=application/pdf cdn=false ');
    expect(policies).toEqual([
      { name: 'videos', types: ['video/*'], tags: [], coldAfterMs: 30_000, cdn: true },
      { name: 'scratch', types: [], tags: ['tmp', 'draft'], deleteAfterMs: 43_200_000 },
      { name: 'pdf', types: ['application/pdf'], tags: [], cdn: false },
    ]);
  });

  it.each([
    ['videos type=video/*', 'has no "<name>:"'],
    ['Videos: cdn', 'policy name "Videos"'],
    ['a: cdn; a: cdn', 'two policies are named "a"'],
    ['a: type=video cold=1d', '"type=video" is not a media type'],
    ['a: type=*/mp4 cold=1d', 'is not a media type'],
    ['a: tag= cdn', 'needs a tag'],
    ['a: delete=soon', 'FILE_POLICIES (policy "a", delete)="soon" is not a duration'],
    ['a: delete=1d delete=2d', 'says delete= twice'],
    ['a: cold=100ms', 'must be at least 1000 ms'],
    ['a: type=video/*', 'does nothing'],
    ['a: colder=1d', 'unknown clause "colder=1d"'],
    ['a: cold=7d delete=1d', 'cold=7d is not shorter than delete=1d'],
  ])('refuses %j, naming FILE_POLICIES', (value, message) => {
    expect(() => parsePolicies(value)).toThrow(message);
    expect(() => parsePolicies(value)).toThrow('FILE_POLICIES');
  });

  it('matches media types with wildcards, and tags; both given means both must match', () => {
    expect(typeMatches('video/*', 'video/mp4')).toBe(true);
    expect(typeMatches('video/*', 'VIDEO/MP4; codecs=avc1')).toBe(true);
    expect(typeMatches('video/*', 'audio/mp4')).toBe(false);
    expect(typeMatches('*/*', 'application/pdf')).toBe(true);
    expect(typeMatches('application/pdf', 'application/pdf')).toBe(true);
    const [p] = parsePolicies('p: type=video/* tag=keep tag=archive cold=1d');
    expect(policyMatches(p!, { mediaType: 'video/mp4', tags: ['archive'] })).toBe(true);
    expect(policyMatches(p!, { mediaType: 'video/mp4', tags: [] })).toBe(false);
    expect(policyMatches(p!, { mediaType: 'image/png', tags: ['keep'] })).toBe(false);
  });

  it('the first policy that says cdn decides; DOWNLOAD_CDN otherwise', () => {
    const policies = parsePolicies('private: tag=secret cdn=false; media: type=video/* cdn; old: delete=1d');
    expect(cdnAllowed({ policies, cdnDefault: false }, { mediaType: 'video/mp4', tags: [] })).toBe(true);
    expect(cdnAllowed({ policies, cdnDefault: false }, { mediaType: 'video/mp4', tags: ['secret'] })).toBe(false);
    expect(cdnAllowed({ policies, cdnDefault: false }, { mediaType: 'text/plain', tags: [] })).toBe(false);
    expect(cdnAllowed({ policies, cdnDefault: true }, { mediaType: 'text/plain', tags: [] })).toBe(true);
  });
});

describe('lifecycle settings', () => {
  it('has documented defaults', () => {
    const c = parseConfig({ DATA_DIR: '/tmp/d' }).lifecycle;
    expect(c).toEqual({
      policies: [], maintenanceIntervalMs: 3_600_000, coldDir: '/tmp/d/cold',
      s3Cold: { storageClass: undefined, bucket: undefined, prefix: 'cold/' },
      presignedDownloads: false, presignedUrlTtlMs: 300_000, cdnDefault: false, cacheMaxAgeSeconds: 31_536_000,
    });
  });

  it('reads the S3 cold tier: a prefix by default, none with a storage class or another bucket', () => {
    const s3 = { S3_BUCKET: 'up', SINGLE_NODE: 'true' };
    expect(parseLifecycle({ ...s3 }, '/d').s3Cold).toEqual({ storageClass: undefined, bucket: undefined, prefix: 'cold/' });
    expect(parseLifecycle({ ...s3, S3_COLD_STORAGE_CLASS: 'GLACIER_IR' }, '/d').s3Cold.prefix).toBe('');
    expect(parseLifecycle({ ...s3, S3_COLD_BUCKET: 'archive' }, '/d').s3Cold).toEqual({ storageClass: undefined, bucket: 'archive', prefix: '' });
    expect(parseLifecycle({ ...s3, S3_COLD_PREFIX: 'tier2/' }, '/d').s3Cold.prefix).toBe('tier2/');
    expect(parseLifecycle({ ...s3, S3_PRESIGNED_DOWNLOADS: 'true', PRESIGNED_URL_TTL: '30s' }, '/d')).toMatchObject({ presignedDownloads: true, presignedUrlTtlMs: 30_000 });
  });

  it.each([
    [{ S3_PRESIGNED_DOWNLOADS: 'true' }, 'S3_PRESIGNED_DOWNLOADS set but S3_BUCKET is not'],
    [{ S3_COLD_BUCKET: 'x' }, 'S3_COLD_BUCKET set but S3_BUCKET is not'],
    [{ S3_BUCKET: 'b', SINGLE_NODE: 'true', COLD_DIR: '/c' }, 'COLD_DIR is for file storage'],
    [{ S3_BUCKET: 'b', SINGLE_NODE: 'true', S3_COLD_STORAGE_CLASS: 'glacier' }, 'S3_COLD_STORAGE_CLASS="glacier"'],
    [{ S3_BUCKET: 'b', SINGLE_NODE: 'true', S3_COLD_PREFIX: 'cold' }, 'S3_COLD_PREFIX="cold" must be a key prefix ending in "/"'],
    [{ S3_BUCKET: 'b', SINGLE_NODE: 'true', PRESIGNED_URL_TTL: '8d' }, 'PRESIGNED_URL_TTL must be at most 7d'],
    [{ MAINTENANCE_INTERVAL: '10ms' }, 'MAINTENANCE_INTERVAL="10ms" must be at least 1000 ms'],
    [{ DOWNLOAD_CDN: 'maybe' }, 'DOWNLOAD_CDN="maybe" must be true or false'],
  ])('refuses %j', (env, message) => {
    expect(() => parseConfig(env as Record<string, string>)).toThrow(message);
  });
});
