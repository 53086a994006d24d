/**
 * Crash test of the background flush (file storage, FSYNC=true, FSYNC_INTERVAL set): the real server
 * process is SIGKILLed at random points while PATCHes are in flight, many rounds, bounded in time.
 * After each restart on the same DATA_DIR: HEAD never reports more than the file holds, the bytes up to
 * it are the bytes sent, no acknowledged byte is lost (same boot: the page cache survived), and every
 * upload that finishes has the right sha256.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TUS } from '@tus-edge/testkit';
import { spawnServer, tempDir, type SpawnedServer } from '../harness.js';

/** Wall time spent killing and restarting (the test stops starting rounds after it). */
const BUDGET_MS = 40_000;
const UPLOAD_SIZE = 16 * 1024 * 1024;
const PARALLEL = 2;

interface Upload {
  id: string;
  data: Buffer;
  /** Highest offset a 204 acknowledged. */
  acked: number;
}

const agent = new http.Agent({ keepAlive: false });

function request(url: string, method: string, headers: Record<string, string>, body?: Buffer) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    const req = http.request(url, { method, headers: { ...TUS, ...headers }, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function create(server: SpawnedServer): Promise<Upload> {
  const res = await request(server.tusUrl, 'POST', { 'Upload-Length': String(UPLOAD_SIZE) });
  expect(res.status).toBe(201);
  return { id: String(res.headers.location).split('/').pop()!, data: randomBytes(UPLOAD_SIZE), acked: 0 };
}

/** HEAD after a restart, checked against the bytes on disk and what was acknowledged. */
async function checkOffset(server: SpawnedServer, u: Upload): Promise<number> {
  const res = await request(`${server.tusUrl}/${u.id}`, 'HEAD', {});
  expect(res.status).toBe(200);
  const offset = Number(res.headers['upload-offset']);
  const onDisk = await fsp.readFile(path.join(server.dataDir, 'uploads', u.id));
  expect(offset).toBeLessThanOrEqual(onDisk.length);
  expect(offset).toBeGreaterThanOrEqual(u.acked);
  expect(onDisk.subarray(0, offset).equals(u.data.subarray(0, offset))).toBe(true);
  return offset;
}

/** PATCHes `u` from `offset` in random chunk sizes until it is finished or the server dies. */
async function send(server: SpawnedServer, u: Upload, offset: number): Promise<boolean> {
  while (offset < UPLOAD_SIZE) {
    const n = Math.min(UPLOAD_SIZE - offset, randomInt(16 * 1024, 2 * 1024 * 1024));
    let res;
    try {
      res = await request(`${server.tusUrl}/${u.id}`, 'PATCH', {
        'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream',
      }, u.data.subarray(offset, offset + n));
    } catch {
      return false; // killed mid-request
    }
    if (res.status !== 204) return false;
    offset = Number(res.headers['upload-offset']);
    u.acked = Math.max(u.acked, offset);
  }
  return true;
}

describe('crash safety of the background flush (SIGKILL during PATCHes)', () => {
  it('never reports an offset past the file, never loses an acknowledged byte, finishes with the right sha256', async () => {
    const dataDir = await tempDir();
    // Rounds of 100 ms flush while PATCHes run; no processors (they only slow each start).
    const env = { FSYNC_INTERVAL: '100ms', PROCESSORS_IN_PROCESS: 'false' };
    const started = Date.now();
    let uploads: Upload[] = [];
    let rounds = 0;
    let finished = 0;
    let killedMidPatch = 0;
    while (Date.now() - started < BUDGET_MS) {
      const server = await spawnServer(env, dataDir);
      try {
        const offsets = new Map<Upload, number>();
        for (const u of uploads) offsets.set(u, await checkOffset(server, u)); // the state the last kill left
        while (uploads.length < PARALLEL) uploads.push(await create(server));
        const killAfter = randomInt(5, 400);
        const killer = new Promise<void>((resolve) => setTimeout(() => resolve(server.kill()), killAfter));
        const done = await Promise.all(uploads.map((u) => send(server, u, offsets.get(u) ?? 0)));
        await killer;
        rounds++;
        if (done.some((d) => !d)) killedMidPatch++;
        for (const [i, u] of uploads.entries()) {
          if (!done[i]) continue;
          const onDisk = await fsp.readFile(path.join(dataDir, 'uploads', u.id));
          expect(createHash('sha256').update(onDisk).digest('hex')).toBe(createHash('sha256').update(u.data).digest('hex'));
          finished++;
        }
        uploads = uploads.filter((_, i) => !done[i]);
      } finally {
        await server.kill();
      }
    }
    // The uploads still open resume to the end on a last, uninterrupted server.
    const server = await spawnServer(env, dataDir);
    try {
      for (const u of uploads) {
        expect(await send(server, u, await checkOffset(server, u))).toBe(true);
        const res = await request(`${server.tusUrl}/${u.id}`, 'HEAD', {});
        expect(res.headers['upload-offset']).toBe(String(UPLOAD_SIZE));
        const onDisk = await fsp.readFile(path.join(dataDir, 'uploads', u.id));
        expect(createHash('sha256').update(onDisk).digest('hex')).toBe(createHash('sha256').update(u.data).digest('hex'));
        finished++;
      }
    } finally {
      await server.terminate();
    }
    expect(killedMidPatch).toBeGreaterThanOrEqual(5);
    expect(finished).toBeGreaterThanOrEqual(PARALLEL);
    // eslint-disable-next-line no-console
    console.log(`crash test: ${rounds} SIGKILL rounds, ${killedMidPatch} with PATCHes in flight, ${finished} uploads finished with the right sha256`);
  }, 120_000);
});
