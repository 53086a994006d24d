import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDir, type TestServer } from '../../test/harness.js';
import { Staging } from './staging.js';

describe('Staging', () => {
  it('refuses with 503 and Retry-After when the staging disk has less free space than required', async () => {
    const dir = await tempDir();
    await new Staging(dir, 1).ensureRoom();
    await expect(new Staging(dir, 2 ** 52).ensureRoom()).rejects.toMatchObject({ code: 'STORAGE_FULL', status: 503, headers: { 'Retry-After': '30' } });
  });

  it('removes its scratch file whatever the work does', async () => {
    const staging = new Staging(await tempDir(), 1);
    let seen = '';
    await expect(
      staging.withScratch(async (files, id) => {
        seen = id;
        expect((await files.offset(id))?.bytes).toBe(0);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(seen).toMatch(/^stage-/);
  });
});

describe('a server whose disk is (nearly) full', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ STAGING_MIN_FREE: '4096TiB' });
  });
  afterAll(() => server?.close());

  it('refuses PATCH and creation-with-upload with 503 instead of filling the disk, and changes nothing', async () => {
    const tus = { 'Tus-Resumable': '1.0.0' };
    const created = await fetch(server.tusUrl, { method: 'POST', headers: { ...tus, 'Upload-Length': '5' } });
    expect(created.status).toBe(201);
    const url = new URL(created.headers.get('location')!, server.url).href;
    const patched = await fetch(url, {
      method: 'PATCH', body: 'hello',
      headers: { ...tus, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' },
    });
    expect(patched.status).toBe(503);
    expect(patched.headers.get('retry-after')).toBe('30');
    expect(((await patched.json()) as { error: { code: string } }).error.code).toBe('STORAGE_FULL');
    const head = await fetch(url, { method: 'HEAD', headers: tus });
    expect(head.headers.get('upload-offset')).toBe('0');
    const withBody = await fetch(server.tusUrl, {
      method: 'POST', body: 'hello', headers: { ...tus, 'Upload-Length': '5', 'Content-Type': 'application/offset+octet-stream' },
    });
    expect(withBody.status).toBe(503);
  });
});
