/**
 * Dedup with a node killed between the steps, on real processes: server nodes (`server/dist/main.js`)
 * on S3 (Swift), Redis and PostgreSQL. A duplicate finishes while the database is down (its hand-over
 * waits in its record), the node is SIGKILLed, and the duplicate is pointed at the stored object in the
 * catalogue — exactly what a node that died between "point at the existing object" and "delete the new
 * bytes" leaves behind. The next node's sweep deletes the new bytes, adds no second reference, and the
 * duplicate still reads back.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client, spawnServer, startDistributedServices, TUS, type DistributedServices, type ServerEnv, type SpawnedServer } from '@tus-edge/testkit';
import { createCatalogue } from '../../../src/catalogue/index.js';
import { ingestInputOf } from '../../../src/catalogue/records.js';
import type { UploadRecord } from '../../../src/records/types.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PREFIX = 'tus:';

let services: DistributedServices;
let client: Redis;
let env: ServerEnv & { DATABASE_URL: string };
let databaseUrl: string;
const nodes: SpawnedServer[] = [];

beforeAll(async () => {
  services = await startDistributedServices();
  client = new Redis(services.redis.url);
  env = await services.serverEnv('dedup_kill', PREFIX, { EXPIRY_SWEEP_INTERVAL: '300ms', PROCESSORS_IN_PROCESS: 'false', LOG_LEVEL: 'warn' });
  databaseUrl = env.DATABASE_URL;
}, 400_000);
afterAll(async () => {
  for (const n of nodes) await n.kill().catch(() => undefined);
  client?.disconnect();
  await services?.stop();
});

async function node(): Promise<SpawnedServer> {
  const server = await spawnServer(env);
  nodes.push(server);
  return server;
}

async function upload(server: SpawnedServer, data: Buffer): Promise<string> {
  const res = await fetch(server.tusUrl, {
    method: 'POST',
    headers: { ...TUS, 'Upload-Length': String(data.length), 'Content-Type': 'application/offset+octet-stream' },
    body: data,
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.headers.get('location')!.split('/').pop()!;
}

const recordOf = async (id: string): Promise<UploadRecord | undefined> => {
  const raw = await client.get(`${PREFIX}record:${id}`);
  return raw === null ? undefined : (JSON.parse(raw) as UploadRecord);
};
/** Whether the bucket holds the upload's bytes (its object, or its multipart upload's info). */
const inBucket = async (id: string) => ((await createS3Client(services.s3).listObjectsV2({ Bucket: services.s3.bucket, Prefix: id })).KeyCount ?? 0) > 0;

describe('dedup with a node killed between pointing at the stored object and deleting the new bytes', () => {
  it('the next node deletes the new bytes once, adds no second reference, and the duplicate reads back', { timeout: 180_000 }, async () => {
    const a = await node();
    const data = randomBytes(120_000);
    const original = await upload(a, data);
    expect((await recordOf(original))?.cataloguedAt).toBeDefined();

    await services.postgres.down();
    const duplicate = await upload(a, data);
    const record = (await recordOf(duplicate))!;
    // Its event went out (the dedup lookup is only a hint), its hand-over waits, its bytes are stored.
    expect(record).toMatchObject({ sha256: sha(data) });
    expect(record.eventRecordedAt).toBeDefined();
    expect(record.cataloguedAt).toBeUndefined();
    await a.kill();
    await services.postgres.up();

    const catalogue = createCatalogue({ kind: 'postgres', url: databaseUrl, poolSize: 2 });
    try {
      // What the killed node had committed: the duplicate points at the stored object (its bytes not deleted yet).
      const pointed = await catalogue.ingest(ingestInputOf(record));
      expect(pointed.freed).toBe(duplicate);
      expect(await inBucket(duplicate)).toBe(true);
      expect((await catalogue.findContent('', sha(data)))?.refs).toBe(2);

      const b = await node();
      const deadline = Date.now() + 30_000;
      while (!(await recordOf(duplicate))?.cataloguedAt && Date.now() < deadline) await sleep(200);
      expect((await recordOf(duplicate))?.cataloguedAt).toBeDefined();
      expect(await inBucket(duplicate)).toBe(false);
      expect(await inBucket(original)).toBe(true);
      expect((await catalogue.findContent('', sha(data)))?.refs).toBe(2);
      const got = await fetch(`${b.tusUrl}/${duplicate}`);
      expect(got.status).toBe(200);
      expect(sha(Buffer.from(await got.arrayBuffer()))).toBe(sha(data));
    } finally {
      await catalogue.close();
    }
  });
});
