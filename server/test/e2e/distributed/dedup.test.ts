/**
 * Dedup and versions on the distributed deployment: two server nodes (in this process) sharing a real
 * S3 (Swift s3api), Redis and PostgreSQL. Identical uploads finishing at once on the two nodes end
 * with one object; an upload whose PATCHes went to both nodes (no node saw every byte) is hashed at
 * finish and deduplicated; versions are listed, downloaded and restored from either node.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest, OCTET, sha256, startDistributedServices, TUS, type DistributedServices } from '@tus-edge/testkit';
import { startTestServer, type TestServer } from '../../harness.js';

let services: DistributedServices;
let nodes: TestServer[] = [];

beforeAll(async () => {
  services = await startDistributedServices();
  const env = await services.serverEnv('dedup_nodes', `dedup-${Date.now()}:`, { STAGING_MIN_FREE: '64MiB', PROCESSORS_IN_PROCESS: 'false' });
  nodes = [await startTestServer({ ...env, NODE_NAME: 'n1' }), await startTestServer({ ...env, NODE_NAME: 'n2', FILE_MAX_VERSIONS: '2' })];
}, 400_000);
afterAll(async () => {
  for (const n of nodes) await n.close();
  await services?.stop();
});

const b64 = (s: string) => Buffer.from(s).toString('base64');
async function create(node: TestServer, length: number, metadata: Record<string, string>): Promise<string> {
  const meta = Object.entries(metadata).map(([k, v]) => `${k} ${b64(v)}`).join(',');
  const res = await httpRequest(node.tusUrl, 'POST', { ...TUS, 'Upload-Length': String(length), 'Upload-Metadata': meta });
  expect(res.status).toBe(201);
  return String(res.headers.location).split('/').pop()!;
}
async function patch(node: TestServer, id: string, offset: number, body: Buffer): Promise<void> {
  const res = await httpRequest(`${node.tusUrl}/${id}`, 'PATCH', { ...TUS, 'Upload-Offset': String(offset), 'Content-Type': OCTET }, body);
  expect(res.status, res.body.toString()).toBe(204);
}
const stored = async (id: string) => (await nodes[0].deps.storage.offset(id)) !== undefined;
const read = async (node: TestServer, id: string) => sha256((await httpRequest(`${node.tusUrl}/${id}`, 'GET', TUS)).body);

describe('distributed dedup (S3, Redis, PostgreSQL)', () => {
  it('identical uploads finishing at once on two nodes end with one object; both read back from either node', async () => {
    const data = randomBytes(1024 * 1024 + 11);
    const [n1, n2] = nodes;
    const a = await create(n1, data.length, { filename: 'a.bin' });
    const b = await create(n2, data.length, { filename: 'b.bin' });
    const cut = data.length - 100;
    await Promise.all([patch(n1, a, 0, data.subarray(0, cut)), patch(n2, b, 0, data.subarray(0, cut))]);
    await Promise.all([patch(n1, a, cut, data.subarray(cut)), patch(n2, b, cut, data.subarray(cut))]);
    const [ea, eb] = [await n1.deps.catalogue.byUpload(a), await n2.deps.catalogue.byUpload(b)];
    expect(ea?.file.objectId).toBeDefined();
    expect(eb?.file.objectId).toBe(ea?.file.objectId);
    expect((await n1.deps.catalogue.findContent('', sha256(data)))?.refs).toBe(2);
    expect([await stored(a), await stored(b)].filter(Boolean)).toHaveLength(1);
    for (const node of nodes) for (const id of [a, b]) expect(await read(node, id)).toBe(sha256(data));
  });

  it('an upload written through both nodes is hashed at finish (no node saw every byte) and deduplicated', async () => {
    const data = randomBytes(600_000);
    const [n1, n2] = nodes;
    const first = await create(n1, data.length, { filename: 'x.bin' });
    await patch(n1, first, 0, data);
    const split = await create(n1, data.length, { filename: 'y.bin' });
    await patch(n1, split, 0, data.subarray(0, 250_000));
    await patch(n2, split, 250_000, data.subarray(250_000));
    const entry = await n2.deps.catalogue.byUpload(split);
    expect(entry?.file.sha256).toBe(sha256(data));
    expect(entry?.file.objectId).toBe((await n1.deps.catalogue.byUpload(first))?.file.objectId);
    expect(await stored(split)).toBe(false);
    expect(await read(n1, split)).toBe(sha256(data));
  });

  it('versions by key across nodes: listed and downloaded from either node, restored as a new version', async () => {
    const [n1, n2] = nodes;
    const v1 = randomBytes(70_000);
    const v2 = randomBytes(80_000);
    const u1 = await create(n1, v1.length, { filename: 'plan.txt', key: 'plan' });
    await patch(n1, u1, 0, v1);
    const u2 = await create(n2, v2.length, { filename: 'plan.txt', key: 'plan' });
    await patch(n2, u2, 0, v2);
    const fileId = (await n1.deps.catalogue.byUpload(u1))!.file.id;
    const versions = JSON.parse((await httpRequest(`${n2.url}/api/files/${fileId}/versions`, 'GET')).body.toString());
    expect(versions.versions.map((v: { version: number; uploadId: string }) => [v.version, v.uploadId])).toEqual([[2, u2], [1, u1]]);
    const content = await httpRequest(`${n1.url}/api/files/${fileId}/versions/1/content`, 'GET');
    expect(sha256(content.body)).toBe(sha256(v1));
    // n2 keeps 2 versions: restoring 1 makes 3 and prunes 1 (its object stays: 3 points at it).
    const restored = await httpRequest(`${n2.url}/api/files/${fileId}/versions/1/restore`, 'POST');
    expect(restored.status).toBe(201);
    const after = JSON.parse((await httpRequest(`${n1.url}/api/files/${fileId}/versions`, 'GET')).body.toString());
    expect(after.versions.map((v: { version: number }) => v.version)).toEqual([3, 2]);
    expect(await stored(u1)).toBe(true);
    expect(sha256((await httpRequest(`${n1.url}/api/files/${fileId}/versions/3/content`, 'GET')).body)).toBe(sha256(v1));
  });
});
