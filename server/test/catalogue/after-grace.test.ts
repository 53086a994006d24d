/**
 * After `CATALOGUE_RECORD_GRACE` the record of a finished upload ends and the catalogue answers for it
 * (issue 14). The catalogue keeps the upload token id of each version, so the token that created an
 * upload still reaches it (tus HEAD/GET, `/api/uploads/:id`), and the quota charge, so deleting a file
 * whose record ended gives its bytes back to the owner. Real embedded server, JWT auth, quotas on.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_ENV, bearer, sha256, TUS, userToken } from '@tus-edge/testkit';
import { startTestServer, type TestServer } from '../harness.js';

const OCTETS = { ...TUS, 'Content-Type': 'application/offset+octet-stream' };

async function until(what: string, probe: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a finished upload after its record ended', () => {
  let server: TestServer;
  let alice: Record<string, string>;
  beforeAll(async () => {
    server = await startTestServer({
      ...AUTH_ENV, QUOTA_BYTES: '100000', CATALOGUE_RECORD_GRACE: '1s', EXPIRY_SWEEP_INTERVAL: '200ms',
      RATE_LIMIT_REQUESTS: '0', RATE_LIMIT_CREATIONS: '0', PROCESSORS_IN_PROCESS: 'false', FSYNC: 'false',
    });
    alice = bearer(await userToken('alice'));
  });
  afterAll(() => server?.close());

  const mint = async () => {
    const res = await fetch(`${server.url}/api/upload-tokens`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...alice }, body: '{}' });
    expect(res.status).toBe(201);
    return bearer(((await res.json()) as { token: string }).token);
  };
  const usage = async () => ((await (await fetch(`${server.url}/api/usage`, { headers: alice })).json()) as { usage: { bytes: number; uploads: number }; files: number });
  // A deletion's clean-up may be taken by the periodic sweep's drain, which gives the charge back a moment later.
  const usageBack = (bytes: number) => until(`usage back to ${bytes} bytes`, async () => {
    const { usage: now } = await usage();
    return now.bytes === bytes && now.uploads === 0;
  }, 5_000);
  const recordGone = (id: string) => until(`record ${id} ends`, async () => (await server.deps.records.get(id)) === undefined);

  it('is still reached by the upload token that created it (HEAD, GET, /api/uploads/:id), and by no other token', async () => {
    const token = await mint();
    const data = randomBytes(4000);
    const res = await fetch(server.tusUrl, { method: 'POST', headers: { ...OCTETS, ...token, 'Upload-Length': String(data.length) }, body: data });
    expect(res.status).toBe(201);
    const url = res.headers.get('location')!;
    const id = url.split('/').pop()!;
    await recordGone(id);
    expect(await server.deps.catalogue.byUpload(id)).toMatchObject({ version: { tokenId: expect.any(String), chargedBytes: data.length } });

    const head = await fetch(url, { method: 'HEAD', headers: { ...TUS, ...token } });
    expect([head.status, head.headers.get('upload-offset')]).toEqual([200, String(data.length)]);
    const got = await fetch(url, { headers: token });
    expect([got.status, sha256(Buffer.from(await got.arrayBuffer()))]).toEqual([200, sha256(data)]);
    const api = await fetch(`${server.url}/api/uploads/${id}`, { headers: token });
    expect(api.status).toBe(200);
    expect(await api.json()).toMatchObject({ id, size: data.length });

    // Another upload token of the same owner reaches nothing it did not create.
    const other = await mint();
    expect((await fetch(url, { method: 'HEAD', headers: { ...TUS, ...other } })).status).not.toBe(200);
    expect((await fetch(`${server.url}/api/uploads/${id}`, { headers: other })).status).not.toBe(200);
    // The owner's user token reaches it as before.
    expect((await fetch(url, { method: 'HEAD', headers: { ...TUS, ...alice } })).status).toBe(200);
  });

  it('deleting a file whose record ended gives its bytes back to the owner\'s quota', async () => {
    const before = (await usage()).usage.bytes;
    const data = randomBytes(7000);
    const res = await fetch(server.tusUrl, { method: 'POST', headers: { ...OCTETS, ...alice, 'Upload-Length': String(data.length) }, body: data });
    const id = res.headers.get('location')!.split('/').pop()!;
    expect((await usage()).usage.bytes).toBe(before + data.length);
    await recordGone(id);
    const fileId = (await server.deps.catalogue.byUpload(id))!.file.id;
    expect((await fetch(`${server.url}/api/files/${fileId}`, { method: 'DELETE', headers: alice })).status).toBe(204);
    await usageBack(before);
    expect(await server.deps.catalogue.pendingDeletes(10)).toEqual([]);

    // Two drains of the same committed deletion at once (two nodes' sweeps): the charge comes back once.
    const raced = randomBytes(3000);
    const racedRes = await fetch(server.tusUrl, { method: 'POST', headers: { ...OCTETS, ...alice, 'Upload-Length': String(raced.length) }, body: raced });
    const racedId = racedRes.headers.get('location')!.split('/').pop()!;
    await recordGone(racedId);
    const racedFile = (await server.deps.catalogue.byUpload(racedId))!.file;
    expect(await server.deps.catalogue.remove({ tenant: '', owner: 'alice' }, racedFile.id)).toBeDefined();
    const drains = await Promise.all([server.uploads.handover.deletes.drain(), server.uploads.handover.deletes.drain()]);
    expect(drains[0] + drains[1]).toBeGreaterThanOrEqual(2);
    await usageBack(before);

    // Within the grace the record holds the charge: given back once, not twice.
    const again = await fetch(server.tusUrl, { method: 'POST', headers: { ...OCTETS, ...alice, 'Upload-Length': '10' }, body: '0123456789' });
    const againId = again.headers.get('location')!.split('/').pop()!;
    const againFile = (await server.deps.catalogue.byUpload(againId))!.file.id;
    expect((await fetch(`${server.url}/api/files/${againFile}`, { method: 'DELETE', headers: alice })).status).toBe(204);
    await usageBack(before);
    // Not twice: still there once every drain is over.
    await new Promise((r) => setTimeout(r, 500));
    expect((await usage()).usage).toMatchObject({ bytes: before, uploads: 0 });
  });
});
