/**
 * Migration of what exists (issue 14, item 7): finished uploads recorded before the catalogue existed
 * (Redis records without `cataloguedAt`, outside the sweep's index) are imported once at start; a
 * restart imports nothing more and doubles nothing. Real redis-server, SQLite catalogue under DATA_DIR.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, TUS, type RedisHandle } from '@tus-edge/testkit';
import { createCatalogue } from '../../src/catalogue/index.js';
import { IMPORT_MARKER } from '../../src/uploads/handover.js';
import type { UploadRecord } from '../../src/records/types.js';
import { startTestServer, tempDir } from '../harness.js';

let redis: RedisHandle;
let client: Redis;
beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('one-time import of finished uploads recorded before the catalogue', () => {
  it('imports each once at start, and a restart imports nothing more', async () => {
    const dataDir = await tempDir();
    const env = { DATA_DIR: dataDir, REDIS_URL: redis.url, REDIS_PREFIX: 'imp:' };
    let server = await startTestServer(env);
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
    // Make them what an older version left: no hand-over, no TTL, out of the sweep's index, no catalogue.
    for (const id of ids) {
      const key = `imp:record:${id}`;
      const record = JSON.parse((await client.get(key))!) as UploadRecord;
      delete record.cataloguedAt;
      await client.set(key, JSON.stringify(record));
      await client.zrem('imp:record-due', id);
    }
    for (const f of fs.readdirSync(dataDir)) if (f.startsWith('catalogue.db')) fs.rmSync(path.join(dataDir, f));

    server = await startTestServer(env);
    const listed = (await (await fetch(`${server.url}/api/files?tag=old`)).json()) as { files: Array<{ uploadId: string; name: string }> };
    expect(listed.files.map((f) => f.uploadId).sort()).toEqual([...ids].sort());
    for (const id of ids) {
      expect(JSON.parse((await client.get(`imp:record:${id}`))!).cataloguedAt).toBeDefined();
      expect(await client.pttl(`imp:record:${id}`)).toBeGreaterThan(0);
    }
    await server.stop();

    // Once: the marker says so; a record changed behind its back afterwards is not imported again.
    const record = JSON.parse((await client.get(`imp:record:${ids[0]}`))!) as UploadRecord;
    delete record.cataloguedAt;
    await client.set(`imp:record:${ids[0]}`, JSON.stringify(record));
    await client.zrem('imp:record-due', ids[0]!);
    server = await startTestServer(env);
    const again = (await (await fetch(`${server.url}/api/files?tag=old`)).json()) as { files: unknown[] };
    expect(again.files).toHaveLength(3);
    expect(JSON.parse((await client.get(`imp:record:${ids[0]}`))!).cataloguedAt).toBeUndefined();
    await server.close();
    const catalogue = createCatalogue({ kind: 'sqlite', file: path.join(dataDir, 'catalogue.db') });
    expect(JSON.parse((await catalogue.getMeta(IMPORT_MARKER))!)).toMatchObject({ imported: 3 });
    await catalogue.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
});
