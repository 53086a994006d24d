/**
 * tus 1.0.0 conformance: Termination.
 * Each test name (or the comment above it) quotes the spec sentence it checks; names starting with
 * "[server]" check a behaviour this server chose where the spec leaves room.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  OCTET, TUS, create, createUpload, del, expectError, head, idOf, options, patch, post, sleep, useServer, waitFor,
} from './helpers.js';

const server = useServer();

async function gone(url: string): Promise<void> {
  const id = idOf(url);
  expect(await server().deps.storage.offset(id), 'bytes freed').toBeUndefined();
  expect(await server().deps.records.get(id), 'record freed').toBeUndefined();
  expect(fs.existsSync(path.join(server().dataDir, 'uploads', id)), 'no file left').toBe(false);
}

describe('termination', () => {
  it('If this extension is supported by the Server, it MUST be announced by adding `termination` to the `Tus-Extension` header.', async () => {
    const list = (await options(server().tusUrl)).headers.get('tus-extension')!.split(',').map((e) => e.trim());
    expect(list).toContain('termination');
  });

  it('When receiving a `DELETE` request for an existing upload the Server SHOULD free associated resources and MUST respond with the `204 No Content` status confirming that the upload was terminated.', async () => {
    const unfinished = await createUpload(server().tusUrl, 10);
    await patch(unfinished, 0, 'abc');
    const finished = await create(server().tusUrl, { 'Upload-Length': '3' }, 'abc');
    const empty = await createUpload(server().tusUrl, 0);
    const deferred = await create(server().tusUrl, { 'Upload-Defer-Length': '1' });
    const partA = await create(server().tusUrl, { 'Upload-Length': '1', 'Upload-Concat': 'partial' }, 'a');
    const final = await create(server().tusUrl, { 'Upload-Concat': `final;${partA}` });
    for (const url of [unfinished, finished, empty, deferred, final, partA]) {
      const res = await del(url);
      expect(res.status, url).toBe(204);
      expect(await res.text()).toBe('');
      expect(res.headers.get('tus-resumable')).toBe('1.0.0');
      await gone(url);
    }
  });

  it('For all future requests to this URL, the Server SHOULD respond with the `404 Not Found` or `410 Gone` status.', async () => {
    const url = await create(server().tusUrl, { 'Upload-Length': '6' }, 'abc');
    expect((await del(url)).status).toBe(204);
    const responses = [
      await head(url),
      await patch(url, 3, 'def'),
      await patch(url, 0, 'abc'),
      await del(url),
      await fetch(url),
      await fetch(url, { method: 'POST', headers: { ...TUS, 'X-HTTP-Method-Override': 'HEAD' } }),
    ];
    for (const res of responses) {
      expect([404, 410]).toContain(res.status);
      expect(res.status, '[server] terminated uploads answer 404').toBe(404);
      expect(res.headers.get('upload-offset')).toBeNull();
    }
    // [server] the final-upload creation cannot reference it any more either.
    const partial = await create(server().tusUrl, { 'Upload-Length': '1', 'Upload-Concat': 'partial' }, 'x');
    expect((await del(partial)).status).toBe(204);
    await expectError(await post(server().tusUrl, { 'Upload-Concat': `final;${partial}` }), 400);
  });

  it('[server] DELETE of an unknown upload → 404 with a JSON error', async () => {
    await expectError(await del(`${server().tusUrl}/doesnotexist`), 404, 'UPLOAD_NOT_FOUND');
  });

  it('[server] DELETE while a PATCH is still receiving its body stops the PATCH and terminates the upload', async () => {
    const url = await createUpload(server().tusUrl, 100);
    const stalled = http.request(url, {
      method: 'PATCH',
      agent: false,
      headers: { ...TUS, 'Content-Type': OCTET, 'Upload-Offset': '0', 'Content-Length': '100' },
    });
    let patchStatus: number | undefined;
    stalled.on('response', (res) => {
      patchStatus = res.statusCode;
      res.resume();
    });
    stalled.on('error', () => undefined);
    stalled.write('abcd');
    await sleep(150);
    const res = await del(url);
    expect(res.status).toBe(204);
    await gone(url);
    expect((await head(url)).status).toBe(404);
    expect(await waitFor(async () => patchStatus !== undefined, 5000)).toBe(true);
    expect(patchStatus).toBeGreaterThanOrEqual(400);
    stalled.destroy();
  });
});
