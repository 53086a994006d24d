/**
 * GET of uploads: not part of tus 1.0.0, a behaviour this server chose ("[server]"): a finished upload
 * returns its bytes (single Range supported: 206 / 416), an unfinished one answers 409. GET, like
 * OPTIONS, does not need `Tus-Resumable`.
 */
import { describe, expect, it } from 'vitest';
import { create, createUpload, expectError, patch, useServer } from './helpers.js';

const server = useServer();

describe('[server] GET', () => {
  it('[server] a finished upload returns its bytes, without needing Tus-Resumable', async () => {
    const url = await create(server().tusUrl, { 'Upload-Length': '11' }, 'hello world');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('11');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(await res.text()).toBe('hello world');
    const empty = await createUpload(server().tusUrl, 0);
    const none = await fetch(empty);
    expect(none.status).toBe(200);
    expect(await none.text()).toBe('');
  });

  it('[server] Range: 206 with Content-Range for a satisfiable range', async () => {
    const url = await create(server().tusUrl, { 'Upload-Length': '11' }, 'hello world');
    for (const [range, body, contentRange] of [
      ['bytes=0-4', 'hello', 'bytes 0-4/11'],
      ['bytes=6-', 'world', 'bytes 6-10/11'],
      ['bytes=-5', 'world', 'bytes 6-10/11'],
      ['bytes=6-100', 'world', 'bytes 6-10/11'],
    ]) {
      const res = await fetch(url, { headers: { Range: range } });
      expect(res.status, range).toBe(206);
      expect(res.headers.get('content-range')).toBe(contentRange);
      expect(await res.text()).toBe(body);
    }
  });

  it('[server] Range: 416 with `Content-Range: bytes */size` for an unsatisfiable range', async () => {
    const url = await create(server().tusUrl, { 'Upload-Length': '11' }, 'hello world');
    for (const range of ['bytes=11-', 'bytes=100-200', 'bytes=-0']) {
      const res = await fetch(url, { headers: { Range: range } });
      expect(res.headers.get('content-range'), range).toBe('bytes */11');
      await expectError(res, 416);
    }
  });

  it('[server] an unfinished upload answers 409', async () => {
    const url = await createUpload(server().tusUrl, 10);
    await expectError(await fetch(url), 409, 'UPLOAD_INCOMPLETE');
    await patch(url, 0, 'hello');
    await expectError(await fetch(url), 409, 'UPLOAD_INCOMPLETE');
    const deferred = await create(server().tusUrl, { 'Upload-Defer-Length': '1' }, 'abc');
    await expectError(await fetch(deferred), 409);
  });

  it('[server] an unknown upload answers 404', async () => {
    await expectError(await fetch(`${server().tusUrl}/doesnotexist`), 404);
  });
});
