/**
 * Dedup and versions through the real server (embedded default: file storage, SQLite catalogue,
 * processors off so each completion event stays in DATA_DIR/events/pending to be read): the same bytes
 * uploaded twice are stored once and both uploads still read back; when the delete of a duplicate's
 * bytes fails after the catalogue pointed it at the stored object (a dying node), the to-delete list
 * keeps it and the sweep deletes them; uploads with the same metadata `key` are versions that can be listed, downloaded, restored,
 * pruned and deleted.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { AUTH_ENV, bearer, httpRequest, OCTET, sha256, TUS, userToken } from '@tus-edge/testkit';
import type { RawEnv } from '../../src/config/config.js';
import type { Overrides } from '../../src/context.js';
import { startTestServer, type TestServer } from '../harness.js';
import { documentedApi, type DocumentedApi } from '../openapi.js';

let servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers) await s.close();
  servers = [];
});

async function start(env: RawEnv = {}, overrides: Overrides = {}): Promise<TestServer> {
  const server = await startTestServer({ PROCESSORS_IN_PROCESS: 'false', ...env }, overrides);
  servers.push(server);
  return server;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

const documents = new Map<string, DocumentedApi>();
/** `httpRequest` to the API, the answer checked against the server's OpenAPI document. */
async function apiRequest(server: TestServer, url: string, method = 'GET', headers: Record<string, string> = {}) {
  let doc = documents.get(server.url);
  if (!doc) documents.set(server.url, (doc = await documentedApi(server.url)));
  return doc.checkReply(method, url, await httpRequest(url, method, headers));
}

/** Creates an upload and sends `data` in `chunks` PATCHes; returns its id. */
async function upload(server: TestServer, data: Buffer, metadata: Record<string, string>, chunks = 1, auth: Record<string, string> = {}): Promise<string> {
  const meta = Object.entries(metadata).map(([k, v]) => `${k} ${b64(v)}`).join(',');
  const created = await httpRequest(server.tusUrl, 'POST', { ...TUS, ...auth, 'Upload-Length': String(data.length), 'Upload-Metadata': meta });
  expect(created.status).toBe(201);
  const url = new URL(String(created.headers.location), server.url).href;
  const step = Math.ceil(data.length / chunks);
  for (let offset = 0; offset < data.length; offset += step) {
    const body = data.subarray(offset, offset + step);
    const res = await httpRequest(url, 'PATCH', { ...TUS, ...auth, 'Upload-Offset': String(offset), 'Content-Type': OCTET }, body);
    expect(res.status, res.body.toString()).toBe(204);
  }
  return url.split('/').pop()!;
}

const bytesOnDisk = (server: TestServer, id: string) => fs.existsSync(path.join(server.dataDir, 'uploads', id));
const event = async (server: TestServer, id: string) =>
  JSON.parse(await fsp.readFile(path.join(server.dataDir, 'events', 'pending', `upload-${id}.json`), 'utf8')) as Record<string, any>;

describe('dedup (embedded)', () => {
  it('the same bytes twice are stored once; both read back; the second event names the first for results reuse; deleting frees with the last reference', async () => {
    const server = await start();
    const data = randomBytes(300_000);
    const a = await upload(server, data, { filename: 'a.bin', tags: 'red,blue' }, 3);
    const b = await upload(server, data, { filename: 'b.bin', tags: 'red' });
    const { catalogue } = server.deps;
    const [ca, cb] = [await catalogue.byUpload(a), await catalogue.byUpload(b)];
    expect(ca?.file.sha256).toBe(sha256(data)); // followed while receiving, in three PATCHes
    expect(cb?.file.objectId).toBe(ca?.file.objectId);
    expect(bytesOnDisk(server, a)).toBe(true);
    expect(bytesOnDisk(server, b)).toBe(false);
    const usage = await catalogue.usage({ tenant: '', owner: '' });
    expect(usage).toMatchObject({ files: 2, bytesStored: data.length, bytesDeduplicated: data.length });
    const metrics = (await httpRequest(`${server.url}/metrics`, 'GET')).body.toString();
    expect(metrics).toContain('tus_deduplicated_uploads_total{when="hand-over"} 1');
    expect(metrics).toContain(`tus_deduplicated_bytes_total ${data.length}`);
    expect(metrics).toContain('tus_content_hashes_total{how="receiving"} 2');

    // The duplicate reads back through the catalogue's location indirection (HEAD, GET, Range).
    const head = await httpRequest(`${server.tusUrl}/${b}`, 'HEAD', TUS);
    expect(head.headers['upload-offset']).toBe(String(data.length));
    const got = await httpRequest(`${server.tusUrl}/${b}`, 'GET', TUS);
    expect(got.status).toBe(200);
    expect(sha256(got.body)).toBe(sha256(data));
    const part = await httpRequest(`${server.tusUrl}/${b}`, 'GET', { ...TUS, Range: 'bytes=10-19' });
    expect(part.body.equals(data.subarray(10, 20))).toBe(true);

    // Its completion event points the processors at the stored object and the upload whose results to reuse.
    expect(await event(server, b)).toMatchObject({ sha256: sha256(data), reuseFrom: a, location: { kind: 'file', path: path.join(server.dataDir, 'uploads', a) } });
    expect((await event(server, a)).reuseFrom).toBeUndefined();

    // Terminating the first upload keeps the shared bytes (the second still points at them)…
    expect((await httpRequest(`${server.tusUrl}/${a}`, 'DELETE', TUS)).status).toBe(204);
    expect(bytesOnDisk(server, a)).toBe(true);
    expect(await catalogue.byUpload(a)).toBeUndefined();
    expect(sha256((await httpRequest(`${server.tusUrl}/${b}`, 'GET', TUS)).body)).toBe(sha256(data));
    // …and the last reference frees them.
    expect((await httpRequest(`${server.tusUrl}/${b}`, 'DELETE', TUS)).status).toBe(204);
    expect(bytesOnDisk(server, a)).toBe(false);
    expect(await catalogue.findContent('', sha256(data))).toBeUndefined();
  });

  it('a small upload whose hash was not followed is hashed at finish; a large one is left to the fingerprint', async () => {
    const server = await start({ HASH_WHILE_RECEIVING: 'false', HASH_AT_FINISH_MAX: '100KiB' });
    const small = randomBytes(50_000);
    const large = randomBytes(200_000);
    const s = await upload(server, small, { filename: 's.bin' });
    const l = await upload(server, large, { filename: 'l.bin' });
    expect((await server.deps.catalogue.byUpload(s))?.file.sha256).toBe(sha256(small));
    expect((await server.deps.catalogue.byUpload(l))?.file.sha256).toBeNull();
    expect((await event(server, l)).sha256).toBeUndefined();
  });

  it('a node that died between pointing the duplicate at the stored object and deleting its bytes: the to-delete list has them, the sweep deletes them', async () => {
    let dieOn: string | undefined;
    const server = await start({}, {});
    const storage = server.deps.storage;
    const remove = storage.remove.bind(storage);
    // The first delete of the duplicate's bytes fails as a dying node would leave it: after the catalogue commit.
    storage.remove = async (id: string) => {
      if (id === dieOn) {
        dieOn = undefined;
        throw new Error('node killed');
      }
      return remove(id);
    };
    const data = randomBytes(100_000);
    const a = await upload(server, data, { filename: 'a.bin' });
    const created = await httpRequest(server.tusUrl, 'POST', { ...TUS, 'Upload-Length': String(data.length) });
    const url = new URL(String(created.headers.location), server.url).href;
    const b = url.split('/').pop()!;
    dieOn = b;
    expect((await httpRequest(url, 'PATCH', { ...TUS, 'Upload-Offset': '0', 'Content-Type': OCTET }, data)).status).toBe(204);
    // Pointed at the stored object, but its own bytes are still there: their delete is on the to-delete list.
    expect((await server.deps.catalogue.locate(b))?.object.location).toBe(a);
    expect(bytesOnDisk(server, b)).toBe(true);
    expect(await server.deps.catalogue.pendingDeletes(10)).toEqual([{ kind: 'bytes', ref: b, tenant: '' }]);
    const record = (await server.deps.records.get(b))!;
    // The periodic sweep drains the list: bytes gone, one reference more, not two.
    expect(await server.uploads.handover.sweep()).toMatchObject({ drained: 1 });
    expect(bytesOnDisk(server, b)).toBe(false);
    expect(await server.deps.catalogue.pendingDeletes(10)).toEqual([]);
    expect((await server.deps.records.get(b))?.cataloguedAt).toBeDefined();
    expect((await server.deps.catalogue.locate(a))?.object.refs).toBe(2);
    // Handed over once more (two nodes' sweeps at once): still one reference each.
    expect(await server.uploads.handover.handOver({ ...record, cataloguedAt: undefined })).toBe(true);
    expect((await server.deps.catalogue.locate(a))?.object.refs).toBe(2);
    expect(sha256((await httpRequest(`${server.tusUrl}/${b}`, 'GET', TUS)).body)).toBe(sha256(data));
  });
});

describe('versions (embedded)', () => {
  it('uploads with the same key are versions: list, download, restore as a new version, FILE_MAX_VERSIONS prunes, delete an old one', async () => {
    const server = await start({ FILE_MAX_VERSIONS: '3' });
    const bodies = [randomBytes(20_000), randomBytes(30_000), randomBytes(40_000)];
    const ids: string[] = [];
    for (const [i, body] of bodies.entries()) ids.push(await upload(server, body, { filename: `report-${i + 1}.pdf`, key: 'report' }));
    const fileId = (await server.deps.catalogue.byUpload(ids[0]))!.file.id;
    const api = (p: string, method = 'GET') => apiRequest(server, `${server.url}/api/files/${fileId}${p}`, method);

    const listed = JSON.parse((await api('/versions')).body.toString());
    expect(listed).toMatchObject({ fileId, current: 3 });
    expect(listed.versions.map((v: any) => [v.version, v.uploadId, v.size, v.current])).toEqual([
      [3, ids[2], 40_000, true], [2, ids[1], 30_000, false], [1, ids[0], 20_000, false],
    ]);
    const v1 = await api('/versions/1/content');
    expect(v1.status).toBe(200);
    expect(v1.headers.etag).toBe(`"${sha256(bodies[0])}"`);
    expect(v1.headers['content-disposition']).toContain('report-1.pdf');
    expect(sha256(v1.body)).toBe(sha256(bodies[0]));
    expect((await apiRequest(server, `${server.url}/api/files/${fileId}/versions/1/content`, 'GET', { 'If-None-Match': v1.headers.etag! })).status).toBe(304);
    expect((await api('/versions/9/content')).status).toBe(404);
    expect((await apiRequest(server, `${server.url}/api/files/nope/versions`, 'GET')).status).toBe(404);

    // Restore 1: a new version 4 with version 1's bytes; at most 3 kept, so version 1's row goes, its bytes stay (4 points at them).
    const restored = await api('/versions/1/restore', 'POST');
    expect(restored.status).toBe(201);
    expect(JSON.parse(restored.body.toString())).toMatchObject({ file: { currentVersion: 4, size: 20_000 }, version: { version: 4, current: true } });
    const after = JSON.parse((await api('/versions')).body.toString());
    expect(after.versions.map((v: any) => v.version)).toEqual([4, 3, 2]);
    expect(bytesOnDisk(server, ids[0])).toBe(true);
    expect(sha256((await api('/versions/4/content')).body)).toBe(sha256(bodies[0]));

    // A fourth upload with the key: version 5; version 2 is pruned and its bytes freed.
    const fourth = randomBytes(10_000);
    await upload(server, fourth, { filename: 'report-5.pdf', key: 'report' });
    expect(JSON.parse((await api('/versions')).body.toString()).versions.map((v: any) => v.version)).toEqual([5, 4, 3]);
    expect(bytesOnDisk(server, ids[1])).toBe(false);

    // Deleting an old version frees its bytes; the current one cannot be deleted alone.
    expect((await api('/versions/5', 'DELETE')).status).toBe(409);
    expect((await api('/versions/3', 'DELETE')).status).toBe(204);
    expect(bytesOnDisk(server, ids[2])).toBe(false);
    expect(JSON.parse((await api('/versions')).body.toString()).versions.map((v: any) => v.version)).toEqual([5, 4]);
  });
});

describe('dedup and versions with authentication (AUTH_MODE=jwt)', () => {
  it('versions are the owner\'s only; identical bytes of two owners of one tenant are stored once, each sees only its file', async () => {
    const server = await start({ ...AUTH_ENV, RATE_LIMIT_REQUESTS: '0', RATE_LIMIT_CREATIONS: '0' });
    const [alice, bob] = [bearer(await userToken('alice')), bearer(await userToken('bob'))];
    const data = randomBytes(40_000);
    const a1 = await upload(server, data, { filename: 'a.bin', key: 'doc' }, 1, alice);
    await upload(server, randomBytes(10), { filename: 'a.bin', key: 'doc' }, 1, alice);
    const b1 = await upload(server, data, { filename: 'b.bin', key: 'doc' }, 1, bob);
    const aliceFile = (await server.deps.catalogue.byUpload(a1))!.file;
    const bobFile = (await server.deps.catalogue.byUpload(b1))!.file;
    expect(bobFile.id).not.toBe(aliceFile.id); // the same key of another owner is another file
    expect(bobFile.objectId).toBe((await server.deps.catalogue.version({ tenant: '', owner: 'alice' }, aliceFile.id, 1))?.object.id);
    const versions = (file: string, auth: Record<string, string>) => apiRequest(server, `${server.url}/api/files/${file}/versions`, 'GET', auth);
    expect((await versions(aliceFile.id, alice)).status).toBe(200);
    expect((await versions(aliceFile.id, bob)).status).toBe(404);
    expect((await apiRequest(server, `${server.url}/api/files/${aliceFile.id}/versions/1/content`, 'GET', bob)).status).toBe(404);
    expect((await apiRequest(server, `${server.url}/api/files/${aliceFile.id}/versions/1/restore`, 'POST', bob)).status).toBe(404);
    expect((await versions(aliceFile.id, {})).status).toBe(401);
    expect(sha256((await apiRequest(server, `${server.url}/api/files/${bobFile.id}/versions/1/content`, 'GET', bob)).body)).toBe(sha256(data));
  });
});
