/**
 * Durable deletes on the embedded default (real server processes, file storage, SQLite catalogue): a
 * node is SIGKILLed, and the catalogue holds what it had committed when it died between the catalogue
 * commit and the storage delete: a file removed and a file's older version pruned, with their clean-up
 * listed in the same transactions. The restarted node drains the list: the bytes and records go, the
 * list empties, and the version that stays still reads back.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OCTET, sha256, spawnServer, TUS, type SpawnedServer } from '@tus-edge/testkit';
import { createCatalogue } from '../../src/catalogue/index.js';

const ENV = { EXPIRY_SWEEP_INTERVAL: '300ms', PROCESSORS_IN_PROCESS: 'false', LOG_LEVEL: 'info' };
const servers: SpawnedServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.kill().catch(() => undefined);
  if (servers[0]) await fsp.rm(servers[0].dataDir, { recursive: true, force: true });
});

const b64 = (s: string) => Buffer.from(s).toString('base64');
async function upload(server: SpawnedServer, data: Buffer, metadata: string): Promise<string> {
  const res = await fetch(server.tusUrl, { method: 'POST', headers: { ...TUS, 'Content-Type': OCTET, 'Upload-Length': String(data.length), 'Upload-Metadata': metadata }, body: data });
  expect(res.status).toBe(201);
  return res.headers.get('location')!.split('/').pop()!;
}

async function until(what: string, probe: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('durable deletes: a node killed between the catalogue commit and the storage delete (embedded)', () => {
  it('the restarted node deletes the bytes and records the commit freed; what stays reads back', async () => {
    const first = await spawnServer(ENV);
    servers.push(first);
    const gone = randomBytes(40_000);
    const goneId = await upload(first, gone, `filename ${b64('gone.bin')}`);
    const v1 = randomBytes(30_000);
    const v2 = randomBytes(20_000);
    const v1Id = await upload(first, v1, `filename ${b64('doc.bin')},key ${b64('doc')}`);
    const v2Id = await upload(first, v2, `filename ${b64('doc.bin')},key ${b64('doc')}`);
    await first.kill();

    const dir = first.dataDir;
    const stored = (id: string) => fs.existsSync(path.join(dir, 'uploads', id));
    const recorded = (id: string) => fs.readdirSync(path.join(dir, 'records')).some((f) => f.startsWith(id));
    for (const id of [goneId, v1Id, v2Id]) expect([stored(id), recorded(id)]).toEqual([true, true]);

    // What the killed node had committed: the file removed, the older version pruned (FILE_MAX_VERSIONS=1).
    const catalogue = createCatalogue({ kind: 'sqlite', file: path.join(dir, 'catalogue.db') });
    try {
      const goneFile = (await catalogue.byUpload(goneId))!.file;
      const removed = await catalogue.remove({ tenant: '', owner: '' }, goneFile.id);
      expect(removed?.freed).toEqual([goneId]);
      const docFile = (await catalogue.byUpload(v2Id))!.file;
      expect((await catalogue.pruneVersions(docFile.id, 1)).freed).toEqual([v1Id]);
      expect((await catalogue.pendingDeletes(10)).map((p) => `${p.kind}:${p.ref}`).sort()).toEqual(
        [`bytes:${goneId}`, `bytes:${v1Id}`, `upload:${goneId}`, `upload:${v1Id}`].sort(),
      );

      const second = await spawnServer(ENV, dir);
      servers.push(second);
      await until('the restarted node drains the list', async () => (await catalogue.pendingDeletes(10)).length === 0);
      for (const id of [goneId, v1Id]) expect([stored(id), recorded(id)]).toEqual([false, false]);
      expect((await fetch(`${second.tusUrl}/${goneId}`, { method: 'HEAD', headers: TUS })).status).toBe(404);
      const kept = await fetch(`${second.url}/api/files/${docFile.id}/content`);
      expect([kept.status, sha256(Buffer.from(await kept.arrayBuffer()))]).toEqual([200, sha256(v2)]);
      expect(second.output()).toContain('clean-up owed by earlier deletions done');
    } finally {
      await catalogue.close();
    }
  }, 120_000);
});
