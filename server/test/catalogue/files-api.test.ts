/**
 * The files API and the hand-over on the embedded server (SQLite catalogue, file records): list with
 * filters and a cursor, get, rename and retag, delete, owner scoping with JWT, usage, and a finished
 * upload answered from the catalogue once its record has ended.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_ENV, bearer, TUS, userToken } from '@tus-edge/testkit';
import { startTestServer, type TestServer } from '../harness.js';
import { documentedApi, type DocumentedApi } from '../openapi.js';

/** The document of the server under test: answers are checked against it where the tests fetch. */
let api: DocumentedApi;

const b64 = (s: string) => Buffer.from(s).toString('base64');
const meta = (m: Record<string, string>) => Object.entries(m).map(([k, v]) => `${k} ${b64(v)}`).join(',');

interface FileView { id: string; name: string; tags: string[]; size: number; mediaType: string; uploadId: string; download: string; owner: string }

async function upload(server: TestServer, body: string, metadata: Record<string, string>, auth: Record<string, string> = {}): Promise<string> {
  const res = await api.fetch(server.tusUrl, {
    method: 'POST',
    headers: { ...TUS, ...auth, 'Upload-Length': String(Buffer.byteLength(body)), 'Upload-Metadata': meta(metadata), 'Content-Type': 'application/offset+octet-stream' },
    body,
  });
  expect(res.status).toBe(201);
  expect(res.headers.get('upload-offset')).toBe(String(Buffer.byteLength(body)));
  return res.headers.get('location')!.split('/').pop()!;
}

const json = async <T>(res: Response): Promise<T> => (await res.json()) as T;

describe('files API, auth off (embedded)', () => {
  let server: TestServer;
  beforeAll(async () => {
    // No processors: the media types stay the declared ones (the fingerprint would replace them by what it
    // sniffs from these few text bytes, at a moment the assertions cannot know).
    server = await startTestServer({ CATALOGUE_RECORD_GRACE: '1s', EXPIRY_SWEEP_INTERVAL: '200ms', SIGNING_SECRET: 'files-api-test-signing-secret-0123456789', PROCESSORS_IN_PROCESS: 'false' });
    api = await documentedApi(server.url);
  });
  afterAll(() => server?.close());

  it('lists finished uploads as files with filters and a cursor; renames, retags and deletes them', async () => {
    const a = await upload(server, 'hello world', { filename: 'a.txt', filetype: 'text/plain', tags: 'docs, shared' });
    const b = await upload(server, 'second file', { name: 'b.md', tags: 'docs' });
    await upload(server, 'third', { filename: 'clip.mp4', filetype: 'video/mp4', tags: 'media' });
    const docs = await json<{ files: FileView[]; nextCursor: string | null }>(await api.fetch(`${server.url}/api/files?tag=docs`));
    expect(docs.files.map((f) => f.name)).toEqual(['b.md', 'a.txt']);
    expect(docs.nextCursor).toBeNull();
    const first = docs.files[1]!;
    expect(first).toMatchObject({ uploadId: a, size: 11, mediaType: 'text/plain', tags: ['docs', 'shared'], download: `/files/${a}` });
    expect(docs.files[0]).toMatchObject({ uploadId: b, mediaType: 'application/octet-stream' });
    expect((await json<{ files: FileView[] }>(await api.fetch(`${server.url}/api/files?mediaType=video/*`))).files.map((f) => f.name)).toEqual(['clip.mp4']);
    expect((await json<{ files: FileView[] }>(await api.fetch(`${server.url}/api/files?namePrefix=a.`))).files.map((f) => f.name)).toEqual(['a.txt']);
    const p1 = await json<{ files: FileView[]; nextCursor: string }>(await api.fetch(`${server.url}/api/files?limit=2`));
    const p2 = await json<{ files: FileView[]; nextCursor: string | null }>(await api.fetch(`${server.url}/api/files?limit=2&cursor=${p1.nextCursor}`));
    expect([...p1.files, ...p2.files].map((f) => f.name)).toEqual(['clip.mp4', 'b.md', 'a.txt']);
    expect(p2.nextCursor).toBeNull();
    expect((await api.fetch(`${server.url}/api/files?createdFrom=yesterday`)).status).toBe(400);
    expect((await api.fetch(`${server.url}/api/files?limit=0`)).status).toBe(400);

    const got = await api.fetch(`${server.url}/api/files/${first.id}`);
    expect((await json<FileView>(got)).name).toBe('a.txt');
    const patched = await api.fetch(`${server.url}/api/files/${first.id}`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'renamed.txt', tags: ['kept'] }) });
    expect(await json<FileView>(patched)).toMatchObject({ name: 'renamed.txt', tags: ['kept'] });
    expect((await api.fetch(`${server.url}/api/files/${first.id}`, { method: 'PATCH', body: JSON.stringify({ size: 1 }) })).status).toBe(400);
    expect((await api.fetch(`${server.url}/api/files/${first.id}`, { method: 'PATCH', body: JSON.stringify({ tags: 'x' }) })).status).toBe(400);
    expect((await json<{ files: FileView[] }>(await api.fetch(`${server.url}/api/files?tag=kept`))).files).toHaveLength(1);

    expect((await api.fetch(`${server.url}/api/files/${first.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await api.fetch(`${server.url}/api/files/${first.id}`)).status).toBe(404);
    expect((await api.fetch(`${server.url}/api/files/${first.id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await api.fetch(`${server.tusUrl}/${a}`, { method: 'HEAD', headers: TUS })).status).toBe(404);
    expect(fs.existsSync(path.join(server.dataDir, 'uploads', a))).toBe(false);
  });

  it('answers HEAD and GET of a finished upload from the catalogue once its record has ended', async () => {
    const id = await upload(server, 'kept in the catalogue', { filename: 'k.txt', filetype: 'text/plain' });
    const record = path.join(server.dataDir, 'records', id);
    const saved = JSON.parse(fs.readFileSync(fs.existsSync(record) ? record : `${record}.json`, 'utf8')) as { cataloguedAt?: string };
    expect(saved.cataloguedAt).toBeDefined();
    // Grace 1 s, sweep every 200 ms: the record is deleted.
    const deadline = Date.now() + 20_000;
    while ((fs.existsSync(record) || fs.existsSync(`${record}.json`)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(fs.existsSync(record) || fs.existsSync(`${record}.json`)).toBe(false);
    const head = await api.fetch(`${server.tusUrl}/${id}`, { method: 'HEAD', headers: TUS });
    expect([head.status, head.headers.get('upload-offset'), head.headers.get('upload-length')]).toEqual([200, '21', '21']);
    expect(head.headers.get('upload-metadata')).toContain(`filename ${b64('k.txt')}`);
    const get = await api.fetch(`${server.tusUrl}/${id}`);
    expect([get.status, await get.text()]).toEqual([200, 'kept in the catalogue']);
    const info = await json<{ state: string; size: number }>(await api.fetch(`${server.url}/api/uploads/${id}`));
    expect(info).toMatchObject({ state: 'finished', size: 21 });
    // The other read routes of an upload answer from the catalogue too: its status stream and signed URLs.
    const events = new AbortController();
    const stream = await api.fetch(`${server.url}/api/uploads/${id}/events`, { signal: events.signal });
    expect([stream.status, stream.headers.get('content-type')]).toEqual([200, 'text/event-stream']);
    events.abort();
    const signed = await api.fetch(`${server.url}/api/uploads/${id}/signed-url`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(signed.status).toBe(200);
    const { url } = await json<{ url: string }>(signed);
    const download = await api.fetch(url);
    expect([download.status, await download.text()]).toEqual([200, 'kept in the catalogue']);
    // And its results (none here: no processors run in this server).
    const results = await fetch(`${server.url}/api/uploads/${id}/results`);
    expect(results.status).toBe(200);
  });

  it('reports usage for the anonymous owner', async () => {
    const usage = await json<{ files: number; bytesStored: number; byMediaType: Record<string, { files: number }> }>(await api.fetch(`${server.url}/api/usage`));
    expect(usage.files).toBeGreaterThanOrEqual(3);
    expect(usage.bytesStored).toBeGreaterThan(0);
    expect(usage.byMediaType['video/mp4']).toEqual({ files: 1, bytes: 5 });
  });
});

describe('files API with JWT: each owner sees only their files', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ ...AUTH_ENV, AUTH_TENANT_CLAIM: 'tenant', RATE_LIMIT_REQUESTS: '0', RATE_LIMIT_CREATIONS: '0' });
    api = await documentedApi(server.url);
  });
  afterAll(() => server?.close());

  it('answers 404 for another owner and keeps listings apart', async () => {
    const alice = bearer(await userToken('alice', { claims: { tenant: 't1' } }));
    const bob = bearer(await userToken('bob', { claims: { tenant: 't1' } }));
    const otherTenant = bearer(await userToken('alice', { claims: { tenant: 'acme' } }));
    await upload(server, 'alice secret', { filename: 'secret.txt', tags: 'x' }, alice);
    const list = await json<{ files: FileView[] }>(await api.fetch(`${server.url}/api/files`, { headers: alice }));
    expect(list.files.map((f) => f.owner)).toEqual(['alice']);
    const id = list.files[0]!.id;
    expect((await json<{ files: FileView[] }>(await api.fetch(`${server.url}/api/files?tag=x`, { headers: bob }))).files).toEqual([]);
    expect((await json<{ files: FileView[] }>(await api.fetch(`${server.url}/api/files`, { headers: otherTenant }))).files).toEqual([]);
    for (const [method, body] of [['GET', undefined], ['PATCH', '{"name":"mine"}'], ['DELETE', undefined]] as const) {
      const res = await api.fetch(`${server.url}/api/files/${id}`, { method, headers: { ...bob, 'Content-Type': 'application/json' }, body });
      expect(res.status, method).toBe(404);
    }
    expect((await api.fetch(`${server.url}/api/files/${id}`, { headers: alice })).status).toBe(200);
    const usage = await json<{ owner: string; files: number; bytesStored: number; usage: unknown }>(await api.fetch(`${server.url}/api/usage`, { headers: alice }));
    expect(usage).toMatchObject({ owner: 'alice', tenant: 't1', files: 1, bytesStored: 12 });
    expect(usage.usage).toBeDefined();
    expect((await api.fetch(`${server.url}/api/files`)).status).toBe(401);
  });
});
