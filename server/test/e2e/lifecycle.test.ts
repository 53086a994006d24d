/**
 * Retention, tiers and downloads through the real server: the embedded default (file storage, SQLite
 * catalogue, COLD_DIR) with the maintenance job on a 1 s schedule, and S3 (Swift) with presigned
 * download redirects and a cold prefix. Requests are plain `fetch` over HTTP.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_ENV, bearer, OCTET, sha256, startS3, TUS, userToken, type S3Handle } from '@tus-edge/testkit';
import { startTestServer, type TestServer } from '../harness.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Creates and finishes an upload in one request (creation-with-upload); returns its URL. */
async function upload(server: TestServer, data: Buffer, metadata: Record<string, string>, auth: Record<string, string> = {}): Promise<string> {
  const res = await fetch(server.tusUrl, {
    method: 'POST',
    headers: {
      ...TUS, ...auth, 'Upload-Length': String(data.length), 'Content-Type': OCTET,
      'Upload-Metadata': Object.entries(metadata).map(([k, v]) => `${k} ${b64(v)}`).join(','),
    },
    body: data,
  });
  expect(res.status).toBe(201);
  expect(res.headers.get('upload-offset')).toBe(String(data.length));
  return new URL(res.headers.get('location')!, server.url).href;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('downloads and tiers on the embedded default', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      FSYNC: 'false', MAINTENANCE_INTERVAL: '1s',
      FILE_POLICIES: 'public: tag=public cdn; cold: type=video/* cold=2s; scratch: tag=tmp delete=2s',
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('GET: strong ETag, immutable private caching by default, public where a policy allows a CDN, 304, If-Range', async () => {
    const data = randomBytes(5000);
    const url = await upload(server, data, { filename: 'a.bin', tags: 'x' });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^"[^"]+"$/);
    expect(res.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    expect(res.headers.get('last-modified')).toBeTruthy();
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(data));

    const again = await fetch(url, { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect((await again.arrayBuffer()).byteLength).toBe(0);
    expect((await fetch(url, { headers: { 'If-None-Match': '"other"' } })).status).toBe(200);

    const ranged = await fetch(url, { headers: { Range: 'bytes=10-19', 'If-Range': etag } });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(data.subarray(10, 20))).toBe(true);
    const stale = await fetch(url, { headers: { Range: 'bytes=10-19', 'If-Range': '"changed"' } });
    expect(stale.status).toBe(200);
    expect((await stale.arrayBuffer()).byteLength).toBe(data.length);

    const pub = await upload(server, randomBytes(100), { filename: 'p.bin', tags: 'public' });
    expect((await fetch(pub)).headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('the maintenance job moves an unread video to COLD_DIR and deletes scratch files; downloads keep working', async () => {
    const video = randomBytes(200_000);
    const videoUrl = await upload(server, video, { filename: 'v.mp4', filetype: 'video/mp4' });
    const scratchUrl = await upload(server, randomBytes(100), { filename: 't.txt', tags: 'tmp' });
    const videoId = videoUrl.split('/').pop()!;
    const cold = path.join(server.dataDir, 'cold', videoId);
    await until('video moved to cold', async () => (fs.existsSync(cold) && !fs.existsSync(path.join(server.dataDir, 'uploads', videoId)) ? true : undefined));
    const found = await server.deps.catalogue.byUpload(videoId);
    expect(found?.object.storageClass).toBe('cold');
    const res = await fetch(videoUrl);
    expect(res.status).toBe(200);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(video));
    const part = await fetch(videoUrl, { headers: { Range: 'bytes=100-199' } });
    expect(Buffer.from(await part.arrayBuffer()).equals(video.subarray(100, 200))).toBe(true);
    // The download counted as access.
    expect((await server.deps.catalogue.byUpload(videoId))?.file.lastAccessedAt).toBeTruthy();

    await until('scratch file deleted', async () => ((await fetch(scratchUrl)).status === 404 ? true : undefined));
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/tus_maintenance_actions_total\{action="cold",policy="cold"\} [1-9]/);
    expect(metrics).toMatch(/tus_maintenance_actions_total\{action="delete",policy="scratch"\} [1-9]/);
  }, 60_000);
});

describe('download caching with authentication on', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ FSYNC: 'false', ...AUTH_ENV, DOWNLOAD_CDN: 'true', FILE_POLICIES: 'secret: tag=secret cdn=false' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('an authenticated download is private; a signed URL may be kept by shared caches, no longer than it is valid', async () => {
    const alice = bearer(await userToken('alice'));
    const data = randomBytes(1000);
    const url = await upload(server, data, { filename: 'a.bin' }, alice);
    const mine = await fetch(url, { headers: alice });
    expect(mine.status).toBe(200);
    expect(mine.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    const id = url.split('/').pop()!;
    const minted = await fetch(`${server.url}/api/uploads/${id}/signed-url`, { method: 'POST', headers: { ...alice, 'Content-Type': 'application/json' }, body: '{"expiresIn":120}' });
    const signed = (await minted.json()) as { url: string };
    const res = await fetch(signed.url);
    expect(res.status).toBe(200);
    const maxAge = Number(/^public, max-age=(\d+), immutable$/.exec(res.headers.get('cache-control') ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(100);
    expect(maxAge).toBeLessThanOrEqual(120);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(data));
    expect((await fetch(signed.url, { headers: { 'If-None-Match': res.headers.get('etag')! } })).status).toBe(304);
    // A policy that refuses a CDN keeps even a signed download private.
    const secret = await upload(server, randomBytes(10), { filename: 's.bin', tags: 'secret' }, alice);
    const sid = secret.split('/').pop()!;
    const signedSecret = (await (await fetch(`${server.url}/api/uploads/${sid}/signed-url`, { method: 'POST', headers: alice })).json()) as { url: string };
    expect((await fetch(signedSecret.url)).headers.get('cache-control')).toMatch(/^private, /);
  });
});

describe('downloads and tiers on S3 (Swift): presigned redirects', () => {
  let s3: S3Handle;
  let server: TestServer;
  beforeAll(async () => {
    s3 = await startS3({ timeoutMs: 90_000 });
    server = await startTestServer({
      S3_BUCKET: s3.bucket, S3_ENDPOINT: s3.endpoint, S3_REGION: s3.region, S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey, SINGLE_NODE: 'true', S3_PRESIGNED_DOWNLOADS: 'true', PRESIGNED_URL_TTL: '60s',
      MAINTENANCE_INTERVAL: '1s', FILE_POLICIES: 'cold: type=video/* cold=2s',
    });
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await s3?.stop();
  });

  it('GET answers 302 to a presigned URL with the right Content-Disposition; following it yields the bytes, before and after a move to cold', async () => {
    const data = randomBytes(300_000);
    const url = await upload(server, data, { filename: 'clip.mp4', filetype: 'video/mp4' });
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    const location = res.headers.get('location')!;
    expect(location.startsWith(s3.endpoint)).toBe(true);
    const direct = await fetch(location);
    expect(direct.status).toBe(200);
    expect(direct.headers.get('content-disposition')).toBe(`inline; filename="clip.mp4"; filename*=UTF-8''clip.mp4`);
    expect(direct.headers.get('content-type')).toBe('video/mp4');
    expect(sha256(Buffer.from(await direct.arrayBuffer()))).toBe(sha256(data));
    // A conditional request is still answered by the node (no redirect needed).
    expect((await fetch(url, { redirect: 'manual', headers: { 'If-None-Match': res.headers.get('etag')! } })).status).toBe(304);

    const id = url.split('/').pop()!;
    await until('moved to cold', async () => ((await server.deps.catalogue.byUpload(id))?.object.storageClass === 'cold' ? true : undefined));
    const followed = await fetch(url);
    expect(followed.status).toBe(200);
    expect(followed.url).toContain('/cold/');
    expect(sha256(Buffer.from(await followed.arrayBuffer()))).toBe(sha256(data));
  }, 90_000);
});
