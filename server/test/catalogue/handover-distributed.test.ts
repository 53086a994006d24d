/**
 * The hand-over of finished uploads on the distributed deployment: real server processes on S3 (Swift)
 * and Redis with the catalogue in a real PostgreSQL. A node is SIGKILLed between the steps (uploads
 * finished while the database was unreachable; one already ingested but its record not marked), and the
 * next node drives every one into the catalogue once: nothing lost, nothing doubled. Then the Redis
 * records expire after their grace and HEAD/GET are answered from the catalogue with the same bytes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, startDistributedServices, TUS, type DistributedServices, type ServerEnv, type SpawnedServer } from '@tus-edge/testkit';
import { createCatalogue } from '../../src/catalogue/index.js';
import { ingestInputOf } from '../../src/catalogue/records.js';
import type { UploadRecord } from '../../src/records/types.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const b64 = (s: string) => Buffer.from(s).toString('base64');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let services: DistributedServices;
let client: Redis;
let env: ServerEnv & { DATABASE_URL: string };
let databaseUrl: string;
const nodes: SpawnedServer[] = [];
const PREFIX = 'tus:';

beforeAll(async () => {
  services = await startDistributedServices();
  client = new Redis(services.redis.url);
  env = await services.serverEnv('handover', PREFIX, { CATALOGUE_RECORD_GRACE: '3s', EXPIRY_SWEEP_INTERVAL: '300ms', LOG_LEVEL: 'warn' });
  databaseUrl = env.DATABASE_URL;
}, 400_000);
afterAll(async () => {
  for (const node of nodes) await node.kill().catch(() => undefined);
  client?.disconnect();
  await services?.stop();
});

async function node(): Promise<SpawnedServer> {
  const server = await spawnServer(env);
  nodes.push(server);
  return server;
}

async function upload(server: SpawnedServer, data: Buffer, name: string): Promise<string> {
  const res = await fetch(server.tusUrl, {
    method: 'POST',
    headers: { ...TUS, 'Upload-Length': String(data.length), 'Upload-Metadata': `filename ${b64(name)},tags ${b64('handover')}`, 'Content-Type': 'application/offset+octet-stream' },
    body: data,
  });
  expect(res.status, await res.clone().text()).toBe(201);
  expect(res.headers.get('upload-offset')).toBe(String(data.length));
  return res.headers.get('location')!.split('/').pop()!;
}

const recordOf = async (id: string): Promise<UploadRecord | undefined> => {
  const raw = await client.get(`${PREFIX}record:${id}`);
  return raw === null ? undefined : (JSON.parse(raw) as UploadRecord);
};

describe('catalogue hand-over with a node killed between the steps (S3, Redis, PostgreSQL)', () => {
  it('loses nothing and doubles nothing, then answers from the catalogue once the records expired', { timeout: 180_000 }, async () => {
    const a = await node();
    const normal = randomBytes(70_000);
    const normalId = await upload(a, normal, 'normal.bin');
    const catalogued = await recordOf(normalId);
    expect(catalogued?.cataloguedAt).toBeDefined();
    expect(await client.pttl(`${PREFIX}record:${normalId}`)).toBeGreaterThan(0);

    // The database goes away: uploads still finish, their hand-over waits in their records.
    await services.postgres.down();
    const pending = [randomBytes(50_000), randomBytes(1234), randomBytes(99_999)];
    const pendingIds: string[] = [];
    for (const [i, data] of pending.entries()) pendingIds.push(await upload(a, data, `pending-${i}.bin`));
    for (const id of pendingIds) {
      const record = await recordOf(id);
      expect(record?.completedAt).toBeDefined();
      expect(record?.eventRecordedAt).toBeDefined();
      expect(record?.cataloguedAt).toBeUndefined();
      expect(await client.pttl(`${PREFIX}record:${id}`)).toBe(-1); // no TTL before the hand-over
    }
    await a.kill();
    await services.postgres.up();

    // A node died after ingesting one of them but before marking its record: it is in the catalogue already.
    const catalogue = createCatalogue({ kind: 'postgres', url: databaseUrl, poolSize: 2 });
    try {
      const half = (await recordOf(pendingIds[0]!))!;
      expect((await catalogue.ingest(ingestInputOf(half))).created).toBe(true);

      const b = await node();
      const deadline = Date.now() + 30_000;
      const marked = async () => (await Promise.all(pendingIds.map(recordOf))).every((r) => r?.cataloguedAt);
      while (!(await marked()) && Date.now() < deadline) await sleep(200);
      expect(await marked()).toBe(true);

      const listed = (await (await fetch(`${b.url}/api/files?tag=handover&limit=100`)).json()) as { files: Array<{ uploadId: string; size: number }> };
      expect(listed.files.map((f) => f.uploadId).sort()).toEqual([normalId, ...pendingIds].sort());
      const page = await catalogue.list({ tenant: '', owner: '' }, { tag: 'handover' }, undefined, 100);
      expect(page.files).toHaveLength(4);

      // The grace (3 s) ends: Redis drops the records, the catalogue answers.
      const gone = Date.now() + 30_000;
      const allGone = async () => (await Promise.all([normalId, ...pendingIds].map(recordOf))).every((r) => r === undefined);
      while (!(await allGone()) && Date.now() < gone) await sleep(250);
      expect(await allGone()).toBe(true);
      for (const [i, id] of pendingIds.entries()) {
        const head = await fetch(`${b.tusUrl}/${id}`, { method: 'HEAD', headers: TUS });
        expect([head.status, head.headers.get('upload-offset')]).toEqual([200, String(pending[i]!.length)]);
        const get = await fetch(`${b.tusUrl}/${id}`);
        expect(get.status).toBe(200);
        expect(sha(Buffer.from(await get.arrayBuffer()))).toBe(sha(pending[i]!));
      }
      // Deleting a file whose record is gone removes its bytes and answers 404 afterwards.
      const file = listed.files.find((f) => f.uploadId === normalId) as unknown as { id: string };
      expect((await fetch(`${b.url}/api/files/${file.id}`, { method: 'DELETE' })).status).toBe(204);
      expect((await fetch(`${b.tusUrl}/${normalId}`, { method: 'HEAD', headers: TUS })).status).toBe(404);
    } finally {
      await catalogue.close();
    }
  });
});
