/**
 * Migration of what exists (issue 14, item 7): finished uploads recorded before the catalogue existed
 * (Redis records without `cataloguedAt`, outside the sweep's index) are imported once at start; a
 * restart imports nothing more and doubles nothing; a node SIGKILLed in the middle of the import is
 * restarted and finishes it: nothing lost, nothing doubled. Real redis-server and PostgreSQL (the
 * catalogue every node shares), file storage under DATA_DIR.
 */
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256, spawnServer, startPostgres, startRedis, TUS, type PostgresHandle, type RedisHandle, type SpawnedServer } from '@tus-edge/testkit';
import { createCatalogue } from '../../src/catalogue/index.js';
import { IMPORT_MARKER } from '../../src/uploads/handover.js';
import type { UploadRecord } from '../../src/records/types.js';
import { startTestServer, tempDir } from '../harness.js';

let redis: RedisHandle;
let postgres: PostgresHandle;
let client: Redis;
beforeAll(async () => {
  redis = await startRedis({ timeoutMs: 90_000 });
  postgres = await startPostgres({ timeoutMs: 90_000 });
  client = new Redis(redis.url);
}, 200_000);
afterAll(async () => {
  client?.disconnect();
  await Promise.all([redis?.stop(), postgres?.stop()]);
});

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Makes a record what an older version left: no hand-over, no TTL, out of the sweep's index. */
async function makeOld(prefix: string, id: string): Promise<void> {
  const key = `${prefix}record:${id}`;
  const record = JSON.parse((await client.get(key))!) as UploadRecord;
  delete record.cataloguedAt;
  await client.set(key, JSON.stringify(record));
  await client.zrem(`${prefix}record-due`, id);
}

async function countVersions(url: string): Promise<{ versions: number; distinct: number }> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const { rows } = await db.query('select count(*)::int as versions, count(distinct upload_id)::int as "distinct" from file_versions').catch(() => ({ rows: [{ versions: 0, distinct: 0 }] }));
    return rows[0] as { versions: number; distinct: number };
  } finally {
    await db.end();
  }
}

describe('one-time import of finished uploads recorded before the catalogue', () => {
  it('imports each once at start, and a restart imports nothing more', async () => {
    const dataDir = await tempDir();
    const env = { DATA_DIR: dataDir, REDIS_URL: redis.url, REDIS_PREFIX: 'imp:', PROCESSORS_IN_PROCESS: 'false' };
    let server = await startTestServer({ ...env, DATABASE_URL: await postgres.createDatabase('import_before') });
    const ids: string[] = [];
    for (const name of ['one.txt', 'two.txt', 'three.txt']) {
      const res = await fetch(server.tusUrl, {
        method: 'POST',
        headers: { ...TUS, 'Upload-Length': '5', 'Upload-Metadata': `filename ${b64(name)},tags ${b64('old')}`, 'Content-Type': 'application/offset+octet-stream' },
        body: 'bytes',
      });
      ids.push(res.headers.get('location')!.split('/').pop()!);
    }
    await server.stop();
    for (const id of ids) await makeOld('imp:', id);

    // A catalogue that never saw them (the upgrade).
    const databaseUrl = await postgres.createDatabase('import_after');
    server = await startTestServer({ ...env, DATABASE_URL: databaseUrl });
    const listed = (await (await fetch(`${server.url}/api/files?tag=old`)).json()) as { files: Array<{ uploadId: string; name: string }> };
    expect(listed.files.map((f) => f.uploadId).sort()).toEqual([...ids].sort());
    for (const id of ids) {
      expect(JSON.parse((await client.get(`imp:record:${id}`))!).cataloguedAt).toBeDefined();
      expect(await client.pttl(`imp:record:${id}`)).toBeGreaterThan(0);
    }
    await server.stop();

    // Once: the marker says so; a record changed behind its back afterwards is not imported again.
    await makeOld('imp:', ids[0]!);
    server = await startTestServer({ ...env, DATABASE_URL: databaseUrl });
    const again = (await (await fetch(`${server.url}/api/files?tag=old`)).json()) as { files: unknown[] };
    expect(again.files).toHaveLength(3);
    expect(JSON.parse((await client.get(`imp:record:${ids[0]}`))!).cataloguedAt).toBeUndefined();
    await server.close();
    await fsp.rm(dataDir, { recursive: true, force: true });
    const catalogue = createCatalogue({ kind: 'postgres', url: databaseUrl, poolSize: 2 });
    expect(JSON.parse((await catalogue.getMeta(IMPORT_MARKER))!)).toMatchObject({ imported: 3 });
    await catalogue.close();
  });

  it('a node killed in the middle of the import: the restarted node finishes it, nothing lost, nothing doubled', { timeout: 180_000 }, async () => {
    const prefix = 'impk:';
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: prefix, PROCESSORS_IN_PROCESS: 'false', LOG_LEVEL: 'info' };
    // Two real uploads (their bytes must read back afterwards)...
    const first = await spawnServer({ ...env, DATABASE_URL: await postgres.createDatabase('import_kill_before') });
    const real = [randomBytes(3000), randomBytes(5000)];
    const realIds: string[] = [];
    for (const [i, data] of real.entries()) {
      const res = await fetch(first.tusUrl, {
        method: 'POST', headers: { ...TUS, 'Upload-Length': String(data.length), 'Upload-Metadata': `filename ${b64(`real-${i}.bin`)}`, 'Content-Type': 'application/offset+octet-stream' }, body: data,
      });
      realIds.push(res.headers.get('location')!.split('/').pop()!);
    }
    await first.terminate();
    for (const id of realIds) await makeOld(prefix, id);
    // ...and more finished records an older version left: enough that the import takes a few seconds.
    const N = 400;
    const at = new Date(Date.now() - 86_400_000).toISOString();
    const batch = client.pipeline();
    for (let i = 0; i < N; i++) {
      const id = `old${i.toString().padStart(5, '0')}${randomBytes(6).toString('hex')}`;
      const record: UploadRecord = { id, size: 10, metadata: { filename: `old-${i}.txt` }, createdAt: at, updatedAt: at, completedAt: at, eventRecordedAt: at };
      batch.set(`${prefix}record:${id}`, JSON.stringify(record));
    }
    await batch.exec();
    const total = N + realIds.length;

    const databaseUrl = await postgres.createDatabase('import_kill_after');
    const dying = await spawnServer({ ...env, DATABASE_URL: databaseUrl }, first.dataDir, { waitReady: false });
    const deadline = Date.now() + 60_000;
    while ((await countVersions(databaseUrl)).versions < 30) {
      if (Date.now() > deadline || dying.child.exitCode !== null) throw new Error(`the import did not start:\n${dying.output()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await dying.kill();
    const midway = await countVersions(databaseUrl);
    expect(midway.versions, 'killed midway').toBeLessThan(total);
    const catalogue = createCatalogue({ kind: 'postgres', url: databaseUrl, poolSize: 2 });
    let restarted: SpawnedServer | undefined;
    try {
      expect(await catalogue.getMeta(IMPORT_MARKER)).toBeUndefined();

      // Ready once its import is over (start-up work): waited for here with room for a loaded machine.
      const restartedAt = Date.now();
      restarted = await spawnServer({ ...env, DATABASE_URL: databaseUrl }, first.dataDir, { waitReady: false });
      const ready = Date.now() + 120_000;
      while ((await fetch(`${restarted.url}/readyz`).then((r) => r.status, () => 0)) !== 200) {
        if (Date.now() > ready || restarted.child.exitCode !== null) throw new Error(`the restarted node is not ready:\n${restarted.output()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const readyMs = Date.now() - restartedAt;
      expect(await countVersions(databaseUrl)).toEqual({ versions: total, distinct: total });
      const marker = JSON.parse((await catalogue.getMeta(IMPORT_MARKER))!) as { imported: number };
      // The restarted node imported the rest (those ingested but not marked before the kill count again: ingest is idempotent).
      expect(marker.imported).toBeGreaterThanOrEqual(total - midway.versions);
      expect(marker.imported).toBeLessThanOrEqual(total);
      const unmarked = [];
      for (const key of await client.keys(`${prefix}record:*`)) if (!JSON.parse((await client.get(key))!).cataloguedAt) unmarked.push(key);
      expect(unmarked).toEqual([]);
      for (const [i, id] of realIds.entries()) {
        const got = await fetch(`${restarted.tusUrl}/${id}`);
        expect([got.status, sha256(Buffer.from(await got.arrayBuffer()))]).toEqual([200, sha256(real[i]!)]);
      }
      console.log(`import killed after ${midway.versions} of ${total} records; the restart imported ${marker.imported} and was ready in ${readyMs} ms`);
    } finally {
      await restarted?.kill();
      await catalogue.close();
      await fsp.rm(first.dataDir, { recursive: true, force: true });
    }
  });
});
