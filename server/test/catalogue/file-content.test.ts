/**
 * `GET /api/files/{id}/content` on a real embedded server (issue 14): the current version's bytes with
 * Range, ETag / If-None-Match, Content-Disposition from the file's name; read where the catalogue says
 * (another upload's bytes once deduplicated, the cold tier once moved); owner-scoped; in the OpenAPI
 * document with a binary response.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_ENV, bearer, sha256, TUS, userToken } from '@tus-edge/testkit';
import { startTestServer, type TestServer } from '../harness.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const OCTETS = { ...TUS, 'Content-Type': 'application/offset+octet-stream' };

describe('GET /api/files/{id}/content', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ PROCESSORS_IN_PROCESS: 'false', FSYNC: 'false' });
  });
  afterAll(() => server?.close());

  async function upload(data: Buffer, name: string, type = 'application/pdf'): Promise<{ uploadId: string; fileId: string }> {
    const res = await fetch(server.tusUrl, {
      method: 'POST', headers: { ...OCTETS, 'Upload-Length': String(data.length), 'Upload-Metadata': `filename ${b64(name)},filetype ${b64(type)}` }, body: data,
    });
    expect(res.status).toBe(201);
    const uploadId = res.headers.get('location')!.split('/').pop()!;
    const found = await server.deps.catalogue.byUpload(uploadId);
    return { uploadId, fileId: found!.file.id };
  }
  const content = (fileId: string, headers: Record<string, string> = {}) => fetch(`${server.url}/api/files/${fileId}/content`, { headers });

  it('answers the bytes with ETag, Range, 304 and the file\'s name; a rename changes the name only', async () => {
    const data = randomBytes(50_000);
    const { fileId } = await upload(data, 'report ü.pdf');
    const whole = await content(fileId);
    expect(whole.status).toBe(200);
    expect(sha256(Buffer.from(await whole.arrayBuffer()))).toBe(sha256(data));
    expect(whole.headers.get('content-type')).toBe('application/pdf');
    expect(whole.headers.get('content-length')).toBe(String(data.length));
    expect(whole.headers.get('content-disposition')).toBe(`attachment; filename="report _.pdf"; filename*=UTF-8''report%20%C3%BC.pdf`);
    const etag = whole.headers.get('etag')!;
    // Hashed while receiving: the tag is the content's sha256, the same as the tus GET of its upload.
    expect(etag).toBe(`"${sha256(data)}"`);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');

    const part = await content(fileId, { Range: 'bytes=100-199' });
    expect([part.status, part.headers.get('content-range')]).toEqual([206, `bytes 100-199/${data.length}`]);
    expect(Buffer.from(await part.arrayBuffer()).equals(data.subarray(100, 200))).toBe(true);
    expect((await content(fileId, { 'If-None-Match': etag })).status).toBe(304);
    // A stale If-Range gets the whole body.
    expect((await content(fileId, { Range: 'bytes=0-9', 'If-Range': '"other"' })).status).toBe(200);
    expect((await content(fileId, { Range: `bytes=${data.length}-` })).status).toBe(416);

    const renamed = await fetch(`${server.url}/api/files/${fileId}`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'final.pdf' }) });
    expect(renamed.status).toBe(200);
    const after = await content(fileId);
    expect(after.headers.get('content-disposition')).toBe(`attachment; filename="final.pdf"; filename*=UTF-8''final.pdf`);
    expect(after.headers.get('etag')).toBe(etag);
    await after.arrayBuffer();
    expect((await content('no-such-file')).status).toBe(404);
  });

  it('reads a duplicate from the stored object and a cold file from the cold tier', async () => {
    const data = randomBytes(30_000);
    const first = await upload(data, 'a.bin', 'application/octet-stream');
    const dup = await upload(data, 'b.bin', 'application/octet-stream');
    // Deduplicated at finish (hashed while receiving): the duplicate's own bytes are gone.
    const located = await server.deps.catalogue.locate(dup.uploadId);
    expect(located?.object.location).toBe(first.uploadId);
    expect(fs.existsSync(path.join(server.dataDir, 'uploads', dup.uploadId))).toBe(false);
    const got = await content(dup.fileId);
    expect([got.status, sha256(Buffer.from(await got.arrayBuffer()))]).toEqual([200, sha256(data)]);
    expect(got.headers.get('content-disposition')).toContain('filename="b.bin"');

    // Moved to cold (the maintenance job's three steps, done here directly).
    const { tiers, catalogue } = server.deps;
    await tiers.copyToCold(first.uploadId, data.length);
    await catalogue.setStorageClass(first.fileId, 'cold');
    await tiers.dropStandard(first.uploadId);
    expect(fs.existsSync(path.join(server.dataDir, 'uploads', first.uploadId))).toBe(false);
    for (const fileId of [first.fileId, dup.fileId]) {
      const cold = await content(fileId, { Range: 'bytes=10-19' });
      expect(cold.status).toBe(206);
      expect(Buffer.from(await cold.arrayBuffer()).equals(data.subarray(10, 20))).toBe(true);
    }
  });

  it('is in the OpenAPI document with a binary response', async () => {
    const doc = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { format?: string } }> }> }>> };
    const op = doc.paths['/api/files/{id}/content']?.get;
    expect(op).toBeDefined();
    expect(op!.responses['200']!.content!['application/octet-stream']!.schema.format).toBe('binary');
    expect(Object.keys(op!.responses).sort()).toEqual(expect.arrayContaining(['200', '206', '304', '404', '416']));
  });
});

describe('GET /api/files/{id}/content with auth: owner-scoped', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ ...AUTH_ENV, PROCESSORS_IN_PROCESS: 'false', FSYNC: 'false' });
  });
  afterAll(() => server?.close());

  it('the owner reads it; another owner gets 404; an upload token 403', async () => {
    const alice = bearer(await userToken('alice'));
    const res = await fetch(server.tusUrl, { method: 'POST', headers: { ...OCTETS, ...alice, 'Upload-Length': '5' }, body: 'hello' });
    const fileId = (await server.deps.catalogue.byUpload(res.headers.get('location')!.split('/').pop()!))!.file.id;
    const own = await fetch(`${server.url}/api/files/${fileId}/content`, { headers: alice });
    expect([own.status, await own.text(), own.headers.get('cache-control')]).toEqual([200, 'hello', expect.stringContaining('private')]);
    expect((await fetch(`${server.url}/api/files/${fileId}/content`, { headers: bearer(await userToken('bob')) })).status).toBe(404);
    const minted = await fetch(`${server.url}/api/upload-tokens`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...alice }, body: '{}' });
    const { token } = (await minted.json()) as { token: string };
    expect((await fetch(`${server.url}/api/files/${fileId}/content`, { headers: bearer(token) })).status).toBe(403);
  });
});
