/**
 * tus 1.0.0 conformance: Expiration. The server runs with UPLOAD_EXPIRY=2s and sweeps every 200 ms;
 * the time-based tests run concurrently so the file takes about one expiry period.
 * Each test name (or the comment above it) quotes the spec sentence it checks.
 */
import { describe, expect, it } from 'vitest';
import {
  IMF_FIXDATE, create, createUpload, download, head, idOf, options, patch, post, sleep, useServer, waitFor,
} from './helpers.js';

const EXPIRY_MS = 2000;
const server = useServer({ UPLOAD_EXPIRY: '2s', EXPIRY_SWEEP_INTERVAL: '200ms' });

/**
 * Waits until the sweep has removed the bytes of `url`. On S3 a sweep is several store round trips
 * (abort the multipart upload, delete the objects, the results), which a busy test S3 server can take
 * seconds to answer: the wait allows for that, the assertion is the same.
 */
async function waitUntilSwept(url: string): Promise<void> {
  const swept = await waitFor(async () => (await server().deps.storage.offset(idOf(url)))?.bytes === undefined, EXPIRY_MS + 10_000, 100);
  expect(swept, 'expired upload swept').toBe(true);
}

describe.concurrent('expiration', () => {
  it('In order to indicate this behavior to the Client, the Server MUST add `expiration` to the `Tus-Extension` header.', async () => {
    const list = (await options(server().tusUrl)).headers.get('tus-extension')!.split(',').map((e) => e.trim());
    expect(list).toContain('expiration');
  });

  it('This header MUST be included in every `PATCH` response if the upload is going to expire.', async () => {
    const url = await createUpload(server().tusUrl, 9);
    for (const [offset, chunk] of [[0, 'abc'], [3, 'def'], [6, '']] as const) {
      const res = await patch(url, offset, chunk);
      expect(res.status).toBe(204);
      expect(res.headers.get('upload-expires'), `PATCH at ${offset}`).toMatch(IMF_FIXDATE);
    }
    const deferred = await create(server().tusUrl, { 'Upload-Defer-Length': '1' });
    expect((await patch(deferred, 0, 'abc')).headers.get('upload-expires')).toMatch(IMF_FIXDATE);
  });

  it('If the expiration is known at the creation, the `Upload-Expires` header MUST be included in the response to the initial `POST` request.', async () => {
    const responses = [
      await post(server().tusUrl, { 'Upload-Length': '10' }),
      await post(server().tusUrl, { 'Upload-Defer-Length': '1' }),
      await post(server().tusUrl, { 'Upload-Length': '10' }, 'hello'),
      await post(server().tusUrl, { 'Upload-Length': '10', 'Upload-Concat': 'partial' }),
    ];
    for (const res of responses) {
      expect(res.status).toBe(201);
      expect(res.headers.get('upload-expires')).toMatch(IMF_FIXDATE);
    }
  });

  // "The value of the `Upload-Expires` header MUST be in
  // [RFC 7231](https://tools.ietf.org/html/rfc7231#section-7.1.1.1) datetime format."
  it('The value of the `Upload-Expires` header MUST be in RFC 7231 datetime format.', async () => {
    const before = Date.now();
    const created = await post(server().tusUrl, { 'Upload-Length': '10' });
    const value = created.headers.get('upload-expires')!;
    expect(value).toMatch(IMF_FIXDATE);
    const at = Date.parse(value);
    expect(at).toBeGreaterThanOrEqual(Math.floor((before + EXPIRY_MS) / 1000) * 1000 - 1000);
    expect(at).toBeLessThanOrEqual(Date.now() + EXPIRY_MS);
    const url = new URL(created.headers.get('location')!, server().tusUrl).href;
    expect((await patch(url, 0, 'abc')).headers.get('upload-expires')).toMatch(IMF_FIXDATE);
  });

  it('If a Client does attempt to resume an upload which has since been removed by the Server, the Server SHOULD respond with the`404 Not Found` or `410 Gone` status.', async () => {
    const url = await createUpload(server().tusUrl, 10);
    expect((await patch(url, 0, 'abc')).status).toBe(204);
    await waitUntilSwept(url);
    const headRes = await head(url);
    expect([404, 410]).toContain(headRes.status);
    expect(headRes.headers.get('upload-offset')).toBeNull();
    expect([404, 410]).toContain((await patch(url, 3, 'def')).status);
  });

  it('The latter one SHOULD be used if the Server is keeping track of expired uploads.', async () => {
    const url = await createUpload(server().tusUrl, 10);
    expect((await patch(url, 0, 'abc')).status).toBe(204);
    await sleep(EXPIRY_MS + 100);
    // [server] 410 as soon as the upload has expired, before and after the sweep removed its bytes.
    expect((await head(url)).status).toBe(410);
    await waitUntilSwept(url);
    const res = await head(url);
    expect(res.status).toBe(410);
    expect(res.headers.get('upload-offset')).toBeNull();
    expect((await patch(url, 3, 'def')).status).toBe(410);
    expect((await patch(url, 0, 'abc')).status).toBe(410);
  });

  it('[server] sliding expiry: each write moves `Upload-Expires`, keeping the upload alive past its first expiry', async () => {
    const created = await post(server().tusUrl, { 'Upload-Length': '10' });
    const first = Date.parse(created.headers.get('upload-expires')!);
    const url = new URL(created.headers.get('location')!, server().tusUrl).href;
    await sleep(EXPIRY_MS * 0.6);
    const patched = await patch(url, 0, 'abc');
    expect(patched.status).toBe(204);
    const second = Date.parse(patched.headers.get('upload-expires')!);
    expect(second).toBeGreaterThan(first);
    await sleep(EXPIRY_MS * 0.6); // past the first expiry, before the second
    const res = await head(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('upload-offset')).toBe('3');
    expect(Date.parse(res.headers.get('upload-expires')!)).toBe(second);
    // A HEAD is not a write: the upload still expires at the time the PATCH announced.
    expect(await waitFor(async () => (await head(url)).status === 410, EXPIRY_MS + 1000, 100)).toBe(true);
  });

  it('[server] finished uploads do not expire and carry no `Upload-Expires`', async () => {
    const created = await post(server().tusUrl, { 'Upload-Length': '3' }, 'abc');
    expect(created.headers.get('upload-expires')).toBeNull();
    const url = new URL(created.headers.get('location')!, server().tusUrl).href;
    await sleep(EXPIRY_MS + 400);
    const res = await head(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('upload-expires')).toBeNull();
    expect(await download(url)).toBe('abc');
  });
});
