/**
 * A node killed in the middle of a move to cold: the real server process (embedded default, SQLite
 * catalogue, COLD_DIR) is SIGKILLed while the maintenance job copies a large video into the cold
 * directory; restarted on the same DATA_DIR, the next run finishes the move. Nothing is lost (the bytes
 * read back by sha256), and nothing is left dangling (no half copy, no standard copy).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OCTET, sha256, spawnServer, TUS, type SpawnedServer } from '@tus-edge/testkit';

const ENV = { FILE_POLICIES: 'cold: type=video/* cold=1s', MAINTENANCE_INTERVAL: '1s', LOG_LEVEL: 'info' };
const SIZE = 160 * 1024 * 1024;
const servers: SpawnedServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.kill().catch(() => undefined);
  if (servers[0]) await fsp.rm(servers[0].dataDir, { recursive: true, force: true });
});

async function until(what: string, probe: () => Promise<boolean> | boolean, ms: number, every = 100): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, every));
  }
}

describe('maintenance: a node killed in the middle of a move', () => {
  it('the restarted node finishes the move; the bytes read back; no half copy or standard copy is left', async () => {
    const first = await spawnServer(ENV);
    servers.push(first);
    const data = randomBytes(SIZE);
    const res = await fetch(first.tusUrl, {
      method: 'POST',
      headers: { ...TUS, 'Upload-Length': String(SIZE), 'Content-Type': OCTET, 'Upload-Metadata': `filename ${Buffer.from('big.mp4').toString('base64')},filetype ${Buffer.from('video/mp4').toString('base64')}` },
      body: data,
    });
    expect(res.status).toBe(201);
    const id = res.headers.get('location')!.split('/').pop()!;
    const standard = path.join(first.dataDir, 'uploads', id);
    const cold = path.join(first.dataDir, 'cold', id);
    const partial = `${cold}.partial`;
    // Kill as soon as the copy into the cold directory has begun.
    await until('the copy to cold starts', () => fs.existsSync(partial) || fs.existsSync(cold), 60_000, 2);
    const caughtMidCopy = fs.existsSync(partial) && !fs.existsSync(cold);
    await first.kill();
    expect(caughtMidCopy, 'the kill landed while the copy ran').toBe(true);
    expect(fs.existsSync(standard)).toBe(true);

    const second = await spawnServer(ENV, first.dataDir);
    servers.push(second);
    await until('the next run finishes the move', () => fs.existsSync(cold) && !fs.existsSync(standard) && !fs.existsSync(partial), 60_000);
    expect(fs.statSync(cold).size).toBe(SIZE);
    const got = await fetch(`${second.tusUrl}/${id}`);
    expect(got.status).toBe(200);
    expect(sha256(Buffer.from(await got.arrayBuffer()))).toBe(sha256(data));
    expect(fs.readdirSync(path.join(first.dataDir, 'cold'))).toEqual([id]);
    expect(second.output()).toContain('finishing a move a previous run left unfinished');
  }, 180_000);
});
