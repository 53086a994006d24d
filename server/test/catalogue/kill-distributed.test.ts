/**
 * Kill tests of the catalogue on the distributed deployment: real server processes on S3 (Swift),
 * Redis and PostgreSQL, SIGKILLed in the middle of a step while the S3 server is frozen (SIGSTOP), so
 * the kill lands exactly between two steps:
 * - a file deletion: the catalogue commit (with its to-delete list) is done, the storage delete hangs;
 * - a move to cold by the maintenance job: the move is journaled, the copy to cold hangs.
 * The next node finishes each: nothing lost (the bytes read back), nothing left behind.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createS3Client, sha256, spawnServer, startDistributedServices, TUS,
  type DistributedServices, type ServerEnv, type SpawnedServer,
} from '@tus-edge/testkit';
import { createCatalogue } from '../../src/catalogue/index.js';
import type { Catalogue } from '../../src/catalogue/types.js';
import { MOVE_JOURNAL } from '../../src/maintenance/apply.js';

let services: DistributedServices;
const nodes: SpawnedServer[] = [];
const catalogues: Catalogue[] = [];

beforeAll(async () => {
  services = await startDistributedServices();
}, 400_000);
afterAll(async () => {
  for (const n of nodes) await n.kill().catch(() => undefined);
  for (const c of catalogues) await c.close().catch(() => undefined);
  await services?.stop();
});

async function node(env: ServerEnv): Promise<SpawnedServer> {
  const server = await spawnServer(env);
  nodes.push(server);
  return server;
}
function catalogueOf(env: { DATABASE_URL: string }): Catalogue {
  const catalogue = createCatalogue({ kind: 'postgres', url: env.DATABASE_URL, poolSize: 2 });
  catalogues.push(catalogue);
  return catalogue;
}
const b64 = (s: string) => Buffer.from(s).toString('base64');
async function upload(server: SpawnedServer, data: Buffer, name: string, type: string): Promise<string> {
  const res = await fetch(server.tusUrl, {
    method: 'POST',
    headers: { ...TUS, 'Upload-Length': String(data.length), 'Upload-Metadata': `filename ${b64(name)},filetype ${b64(type)}`, 'Content-Type': 'application/offset+octet-stream' },
    body: data,
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.headers.get('location')!.split('/').pop()!;
}
/** Whether the bucket holds an object whose key starts with `prefix`. */
const inBucket = async (prefix: string) => ((await createS3Client(services.s3).listObjectsV2({ Bucket: services.s3.bucket, Prefix: prefix })).KeyCount ?? 0) > 0;
async function until(what: string, probe: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('catalogue kill tests on S3 + PostgreSQL', () => {
  it('a node killed after the deletion\'s commit, before the storage delete: the next node deletes the bytes', { timeout: 180_000 }, async () => {
    const env = await services.serverEnv('delete_kill', 'dk:', { EXPIRY_SWEEP_INTERVAL: '300ms', PROCESSORS_IN_PROCESS: 'false', S3_REQUEST_TIMEOUT: '120s', LOG_LEVEL: 'info' });
    const catalogue = catalogueOf(env);
    const a = await node(env);
    const data = randomBytes(70_000);
    const id = await upload(a, data, 'gone.bin', 'application/octet-stream');
    const file = (await catalogue.byUpload(id))!.file;
    expect(await inBucket(id)).toBe(true);

    services.pauseS3();
    try {
      const deleting = fetch(`${a.url}/api/files/${file.id}`, { method: 'DELETE' }).catch(() => undefined);
      // Committed (the file is gone from the catalogue, its clean-up listed); the storage delete hangs.
      await until('the deletion commits', async () => (await catalogue.pendingDeletes(10)).some((p) => p.kind === 'bytes' && p.ref === id));
      expect(await catalogue.byUpload(id)).toBeUndefined();
      await a.kill();
      await deleting;
    } finally {
      services.resumeS3();
    }
    expect(await inBucket(id)).toBe(true);

    const b = await node(env);
    await until('the next node drains the list', async () => (await catalogue.pendingDeletes(10)).length === 0);
    expect(await inBucket(id)).toBe(false);
    expect((await fetch(`${b.tusUrl}/${id}`, { method: 'HEAD', headers: TUS })).status).toBe(404);
    expect(b.output()).toContain('clean-up owed by earlier deletions done');
  });

  it('a node killed in the middle of a move to cold: the next node finishes it; the bytes read back', { timeout: 180_000 }, async () => {
    const env = await services.serverEnv('cold_kill', 'ck:', {
      FILE_POLICIES: 'cold: type=video/* cold=10s', MAINTENANCE_INTERVAL: '1s', PROCESSORS_IN_PROCESS: 'false', S3_REQUEST_TIMEOUT: '120s', LOG_LEVEL: 'info',
      // The analytics rollup runs in the same maintenance job and reads S3: with S3 frozen, a run that had
      // nothing to move would hang there and hold every later slot (one at a time) before the move begins.
      ANALYTICS_HISTORY: 'false',
    });
    const catalogue = catalogueOf(env);
    const a = await node(env);
    const data = randomBytes(300_000);
    const started = Date.now();
    const id = await upload(a, data, 'clip.mp4', 'video/mp4');
    // Frozen before the file is old enough to move (10 s, room for a loaded machine): the run journals
    // the move, then its first S3 call hangs.
    expect(Date.now() - started, 'the upload took so long that the move may have begun').toBeLessThan(8_000);
    services.pauseS3();
    try {
      await until('the move is journaled', async () => !!(await catalogue.getMeta(MOVE_JOURNAL)), 60_000);
      await a.kill();
    } finally {
      services.resumeS3();
    }
    expect(JSON.parse((await catalogue.getMeta(MOVE_JOURNAL))!)).toMatchObject({ location: id, size: data.length });
    expect((await catalogue.byUpload(id))?.object.storageClass).toBe('standard');
    expect(await inBucket(`cold/${id}`)).toBe(false);

    const b = await node(env);
    await until('the next run finishes the move', async () => (await catalogue.getMeta(MOVE_JOURNAL)) === '' && (await inBucket(`cold/${id}`)));
    expect((await catalogue.byUpload(id))?.object.storageClass).toBe('cold');
    // The standard copy is gone: only the cold one is left.
    const keys = (await createS3Client(services.s3).listObjectsV2({ Bucket: services.s3.bucket, Prefix: id })).Contents?.map((o) => o.Key) ?? [];
    expect(keys.filter((k) => k === id)).toEqual([]);
    const got = await fetch(`${b.tusUrl}/${id}`);
    expect([got.status, sha256(Buffer.from(await got.arrayBuffer()))]).toEqual([200, sha256(data)]);
    expect(b.output()).toContain('finishing a move a previous run left unfinished');
  });
});
