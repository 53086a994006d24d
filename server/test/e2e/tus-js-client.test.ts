/**
 * End-to-end uploads with the real tus-js-client (Node build) against the server: plain upload,
 * abort + resume from the stored URL, resume across a SIGKILL of the server process, and parallel
 * uploads through the concatenation extension. Every case compares sha256 of the stored bytes.
 */
import { createHash, randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import * as tus from 'tus-js-client';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnServer, startTestServer, type SpawnedServer, type TestServer } from '../harness.js';
import { TUS } from '@tus-edge/testkit';

const MiB = 1024 * 1024;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const idOf = (url: string) => new URL(url).pathname.split('/').pop()!;
const storedBytes = (dataDir: string, url: string) => fsp.readFile(path.join(dataDir, 'uploads', idOf(url)));

interface SeenRequest {
  method: string;
  url: string;
  offset: string | undefined;
  at: number;
}

/** Runs an upload to completion; resolves with its URL. */
function runUpload(file: Buffer, options: tus.UploadOptions): Promise<{ url: string; upload: tus.Upload }> {
  return new Promise((resolve, reject) => {
    const upload: tus.Upload = new tus.Upload(file, {
      ...options,
      onError: (err) => reject(err),
      onSuccess: () => resolve({ url: upload.url!, upload }),
    });
    upload.start();
  });
}

/** Records every request tus-js-client sends. */
function recorder(seen: SeenRequest[]) {
  return (req: tus.HttpRequest) => {
    seen.push({ method: req.getMethod(), url: req.getURL(), offset: req.getHeader('Upload-Offset') ?? undefined, at: Date.now() });
  };
}

describe('tus-js-client against the server', () => {
  let server: TestServer | undefined;
  const spawned: SpawnedServer[] = [];
  afterEach(async () => {
    await server?.close();
    server = undefined;
    for (const s of spawned.splice(0)) if (s.child.exitCode === null && s.child.signalCode === null) await s.kill();
  });

  it('uploads a few MiB of random data in chunks; the stored sha256 equals the source', async () => {
    server = await startTestServer();
    const data = randomBytes(3 * MiB + 12345);
    const seen: SeenRequest[] = [];
    const { url } = await runUpload(data, {
      endpoint: server.tusUrl,
      chunkSize: MiB,
      retryDelays: [0, 100, 300],
      metadata: { filename: 'random.bin', filetype: 'application/octet-stream' },
      onBeforeRequest: recorder(seen),
    });
    expect(url.startsWith(`${server.tusUrl}/`)).toBe(true);
    expect(seen.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(seen.filter((r) => r.method === 'PATCH').map((r) => r.offset)).toEqual(['0', String(MiB), String(2 * MiB), String(3 * MiB)]);
    const stored = await storedBytes(server.dataDir, url);
    expect(stored.length).toBe(data.length);
    expect(sha256(stored)).toBe(sha256(data));

    const head = await fetch(url, { method: 'HEAD', headers: TUS });
    expect(head.status).toBe(200);
    expect(head.headers.get('upload-offset')).toBe(String(data.length));
    expect(head.headers.get('upload-length')).toBe(String(data.length));
    const download = Buffer.from(await (await fetch(url)).arrayBuffer());
    expect(sha256(download)).toBe(sha256(data));
  });

  it('aborts mid-upload, then a new Upload resumes from the stored URL at the server offset (not 0)', async () => {
    server = await startTestServer();
    const data = randomBytes(4 * MiB);
    const chunkSize = 512 * 1024;
    const firstSeen: SeenRequest[] = [];

    // First attempt: abort during the third PATCH (after two chunks were acknowledged).
    const firstUrl = await new Promise<string>((resolve, reject) => {
      let aborting = false;
      const upload: tus.Upload = new tus.Upload(data, {
        endpoint: server!.tusUrl,
        chunkSize,
        retryDelays: [0, 100, 300],
        onBeforeRequest: recorder(firstSeen),
        onProgress: (sent) => {
          if (aborting || sent <= 2 * chunkSize) return;
          aborting = true;
          upload.abort().then(() => resolve(upload.url!), reject);
        },
        onError: reject,
        onSuccess: () => reject(new Error('upload finished before it could be aborted')),
      });
      upload.start();
    });
    expect(firstSeen.filter((r) => r.method === 'PATCH').length).toBeGreaterThanOrEqual(3);

    const head = await fetch(firstUrl, { method: 'HEAD', headers: TUS });
    expect(head.status).toBe(200);
    const serverOffset = Number(head.headers.get('upload-offset'));
    expect(serverOffset).toBeGreaterThanOrEqual(2 * chunkSize);
    expect(serverOffset).toBeLessThan(data.length);
    const partial = await storedBytes(server.dataDir, firstUrl);
    expect(partial.length).toBe(serverOffset);
    expect(partial.equals(data.subarray(0, serverOffset))).toBe(true);

    // Second attempt: a fresh Upload given the stored URL.
    const seen: SeenRequest[] = [];
    const { url } = await runUpload(data, {
      uploadUrl: firstUrl,
      chunkSize,
      retryDelays: [0, 100, 300],
      onBeforeRequest: recorder(seen),
    });
    expect(url).toBe(firstUrl);
    expect(seen.filter((r) => r.method === 'POST')).toHaveLength(0);
    expect(seen[0].method).toBe('HEAD');
    const patches = seen.filter((r) => r.method === 'PATCH');
    expect(patches.length).toBeGreaterThan(0);
    expect(Number(patches[0].offset)).toBe(serverOffset);
    expect(Number(patches[0].offset)).toBeGreaterThan(0);

    const stored = await storedBytes(server.dataDir, url);
    expect(sha256(stored)).toBe(sha256(data));
  });

  it('resumes after the server process is SIGKILLed mid-upload and restarted on the same port and data', async () => {
    const first = await spawnServer();
    spawned.push(first);
    const data = randomBytes(4 * MiB);
    const chunkSize = 256 * 1024;
    const seen: SeenRequest[] = [];
    let killedAt = 0;
    let restarted: Promise<SpawnedServer> | undefined;

    const { url } = await runUpload(data, {
      endpoint: first.tusUrl,
      chunkSize,
      // Covers the time the restarted server needs to become ready.
      retryDelays: [0, 200, 500, 1000, 1000, 2000, 2000, 3000, 3000],
      onBeforeRequest: recorder(seen),
      onProgress: (sent) => {
        if (restarted || sent < MiB) return;
        restarted = (async () => {
          await first.kill();
          killedAt = Date.now();
          const again = await spawnServer({ PORT: String(first.port) }, first.dataDir);
          spawned.push(again);
          return again;
        })();
      },
    });
    expect(restarted).toBeDefined();
    const again = await restarted!;
    expect(first.child.signalCode).toBe('SIGKILL');
    expect(again.url).toBe(first.url);

    // One creation only; after the kill the client asked for the offset and continued from it.
    expect(seen.filter((r) => r.method === 'POST')).toHaveLength(1);
    const afterKill = seen.filter((r) => r.at >= killedAt);
    expect(afterKill.some((r) => r.method === 'HEAD')).toBe(true);
    const patchesAfter = afterKill.filter((r) => r.method === 'PATCH');
    expect(patchesAfter.length).toBeGreaterThan(0);
    expect(Number(patchesAfter[0].offset)).toBeGreaterThan(0);

    const stored = await storedBytes(again.dataDir, url);
    expect(stored.length).toBe(data.length);
    expect(sha256(stored)).toBe(sha256(data));
    const head = await fetch(url, { method: 'HEAD', headers: TUS });
    expect(head.headers.get('upload-offset')).toBe(String(data.length));
    expect(await again.terminate()).toBe(0);
    await fsp.rm(again.dataDir, { recursive: true, force: true });
  });

  it('parallelUploads: 3 (concatenation): the final upload stores the whole file', async () => {
    server = await startTestServer();
    const data = randomBytes(3 * MiB + 777);
    const seen: SeenRequest[] = [];
    const { url } = await runUpload(data, {
      endpoint: server.tusUrl,
      parallelUploads: 3,
      chunkSize: 512 * 1024,
      retryDelays: [0, 100, 300],
      onBeforeRequest: recorder(seen),
    });
    const posts = seen.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(4); // three partial uploads and the final one

    const head = await fetch(url, { method: 'HEAD', headers: TUS });
    expect(head.status).toBe(200);
    expect(head.headers.get('upload-concat')).toMatch(/^final;\S+ \S+ \S+$/);
    expect(head.headers.get('upload-offset')).toBe(String(data.length));

    const stored = await storedBytes(server.dataDir, url);
    expect(stored.length).toBe(data.length);
    expect(sha256(stored)).toBe(sha256(data));
    const download = Buffer.from(await (await fetch(url)).arrayBuffer());
    expect(sha256(download)).toBe(sha256(data));
  });
});
