/**
 * Real clients of the IETF resumable-upload draft against the server: tus-js-client with
 * `protocol: 'ietf-draft-03'` (interop 5) and `'ietf-draft-05'` (interop 6) — chunked upload, upload
 * during creation, deferred length, abort and resume from the stored URL — and a raw node:http client
 * of interop 8 that sends the whole file in one creation request, is cut off, and resumes from the
 * offset the server reports (also across a SIGKILL of the server). Every case compares sha256.
 */
import { createHash, randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import * as tus from 'tus-js-client';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnServer, startTestServer, type SpawnedServer, type TestServer } from '../harness.js';

const MiB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const idOf = (url: string) => new URL(url).pathname.split('/').pop()!;
const storedBytes = (dataDir: string, url: string) => fsp.readFile(path.join(dataDir, 'uploads', idOf(url)));

interface Seen {
  method: string;
  headers: Record<string, string | undefined>;
}

function recorder(seen: Seen[]) {
  return (req: tus.HttpRequest) => {
    const names = ['Upload-Draft-Interop-Version', 'Upload-Complete', 'Upload-Offset', 'Content-Type', 'Tus-Resumable', 'Upload-Length'];
    seen.push({ method: req.getMethod(), headers: Object.fromEntries(names.map((n) => [n, req.getHeader(n) ?? undefined])) });
  };
}

/** tus-js-client 4.3 takes `protocol` but its type declarations do not list it yet. */
type DraftOptions = tus.UploadOptions & { protocol: 'ietf-draft-03' | 'ietf-draft-05' };

function runUpload(file: Buffer, options: DraftOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const upload: tus.Upload = new tus.Upload(file, { ...options, onError: reject, onSuccess: () => resolve(upload.url!) } as tus.UploadOptions);
    upload.start();
  });
}

describe.each([
  { protocol: 'ietf-draft-03' as const, interop: '5' },
  { protocol: 'ietf-draft-05' as const, interop: '6' },
])('tus-js-client with protocol $protocol (interop $interop)', ({ protocol, interop }) => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('uploads in chunks; every request speaks the draft, the last append says Upload-Complete: ?1', async () => {
    server = await startTestServer();
    const data = randomBytes(3 * MiB + 4321);
    const seen: Seen[] = [];
    const url = await runUpload(data, {
      endpoint: server.tusUrl, protocol, chunkSize: MiB, retryDelays: [0, 100, 300],
      metadata: { filename: 'random.bin' }, onBeforeRequest: recorder(seen),
    });
    expect(seen.every((r) => r.headers['Upload-Draft-Interop-Version'] === interop && r.headers['Tus-Resumable'] === undefined)).toBe(true);
    const patches = seen.filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => r.headers['Upload-Offset'])).toEqual(['0', String(MiB), String(2 * MiB), String(3 * MiB)]);
    expect(patches.map((r) => r.headers['Upload-Complete'])).toEqual(['?0', '?0', '?0', '?1']);
    if (interop === '6') expect(patches.every((r) => r.headers['Content-Type'] === 'application/partial-upload')).toBe(true);
    expect(sha256(await storedBytes(server.dataDir, url))).toBe(sha256(data));
    const record = await server.deps.records.get(idOf(url));
    expect(record?.completedAt).toBeTruthy();
    expect(record?.metadata.filename).toBe('random.bin');
  });

  it('uploads data during creation and with a deferred length', async () => {
    server = await startTestServer();
    const data = randomBytes(MiB + 99);
    const withCreation = await runUpload(data, { endpoint: server.tusUrl, protocol, chunkSize: 256 * 1024, uploadDataDuringCreation: true, retryDelays: [0] });
    expect(sha256(await storedBytes(server.dataDir, withCreation))).toBe(sha256(data));
    // Other bytes: the same bytes again would be deduplicated, and their file removed from DATA_DIR.
    const other = randomBytes(MiB + 99);
    const deferred = await runUpload(other, { endpoint: server.tusUrl, protocol, chunkSize: 256 * 1024, uploadLengthDeferred: true, retryDelays: [0] });
    expect(sha256(await storedBytes(server.dataDir, deferred))).toBe(sha256(other));
    expect((await server.deps.records.get(idOf(deferred)))?.size).toBe(other.length);
  });

  it('aborts mid-upload; a new Upload resumes from the stored URL at the server offset', async () => {
    server = await startTestServer();
    const data = randomBytes(4 * MiB);
    const chunkSize = 512 * 1024;
    const firstUrl = await new Promise<string>((resolve, reject) => {
      let aborting = false;
      const upload: tus.Upload = new tus.Upload(data, {
        endpoint: server!.tusUrl, protocol, chunkSize, retryDelays: [0, 100, 300],
        onProgress: (sent) => {
          if (aborting || sent <= 2 * chunkSize) return;
          aborting = true;
          upload.abort().then(() => resolve(upload.url!), reject);
        },
        onError: reject,
        onSuccess: () => reject(new Error('finished before the abort')),
      } as DraftOptions);
      upload.start();
    });
    const head = await fetch(firstUrl, { method: 'HEAD', headers: { 'Upload-Draft-Interop-Version': interop } });
    expect(head.status).toBe(204);
    expect(head.headers.get('upload-complete')).toBe('?0');
    const serverOffset = Number(head.headers.get('upload-offset'));
    expect(serverOffset).toBeGreaterThanOrEqual(2 * chunkSize);
    expect(serverOffset).toBeLessThan(data.length);

    const seen: Seen[] = [];
    const url = await runUpload(data, { uploadUrl: firstUrl, protocol, chunkSize, retryDelays: [0, 100, 300], onBeforeRequest: recorder(seen) });
    expect(url).toBe(firstUrl);
    expect(seen[0].method).toBe('HEAD');
    expect(seen.filter((r) => r.method === 'POST')).toHaveLength(0);
    expect(Number(seen.find((r) => r.method === 'PATCH')!.headers['Upload-Offset'])).toBe(serverOffset);
    expect(sha256(await storedBytes(server.dataDir, url))).toBe(sha256(data));
  });
});

/** What one attempt of the raw interop-8 client saw. */
interface Attempt {
  status: number;
  location?: string;
  progress: number[];
}

/**
 * One request of the raw client: sends `data` from `from`, and destroys the connection once `cutAt`
 * bytes of it are written (if given; with `hold` it keeps the connection open instead, sending no
 * more, until the other side goes away). Resolves with the final status (0 when cut) and the 104s seen.
 */
function send(
  method: string, url: string, headers: Record<string, string>, data: Buffer, from: number, cutAt?: number, hold = false,
): Promise<Attempt> {
  return new Promise((resolve) => {
    const attempt: Attempt = { status: 0, progress: [] };
    const req = http.request(url, { method, headers: { ...headers, 'Content-Length': String(data.length - from) }, agent: false });
    req.on('information', (info) => {
      if (info.statusCode !== 104) return;
      if (info.headers.location) attempt.location = info.headers.location;
      if (info.headers['upload-offset']) attempt.progress.push(Number(info.headers['upload-offset']));
    });
    req.on('response', (res) => {
      attempt.status = res.statusCode ?? 0;
      attempt.location ??= res.headers.location;
      res.resume();
      res.on('end', () => resolve(attempt));
    });
    req.on('error', () => resolve(attempt));
    const end = cutAt ?? data.length;
    let at = from;
    const pump = () => {
      while (at < end) {
        const next = Math.min(end, at + 256 * 1024);
        const ok = req.write(data.subarray(at, next));
        at = next;
        if (!ok) return void req.once('drain', pump);
      }
      if (cutAt === undefined) req.end();
      else if (!hold) setTimeout(() => req.destroy(), 200);
    };
    pump();
  });
}

const V8 = { 'Upload-Draft-Interop-Version': '8' };

async function offsetOf(url: string): Promise<{ offset: number; complete: string | null }> {
  const res = await fetch(url, { method: 'HEAD', headers: V8 });
  expect(res.status).toBe(204);
  return { offset: Number(res.headers.get('upload-offset')), complete: res.headers.get('upload-complete') };
}

describe('a raw interop 8 client', () => {
  const spawned: SpawnedServer[] = [];
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    for (const s of spawned.splice(0)) if (s.child.exitCode === null && s.child.signalCode === null) await s.kill();
  });

  it('sends the whole file in its creation request, is cut twice, and resumes each time from the offset the server reports', async () => {
    server = await startTestServer();
    const data = randomBytes(12 * MiB);
    // Optimistic creation: all of it, Upload-Complete: ?1; the 104 gives the URL before the cut.
    const first = await send('POST', server.tusUrl, { ...V8, 'Upload-Complete': '?1', 'Upload-Length': String(data.length) }, data, 0, 4 * MiB);
    expect(first.status).toBe(0);
    expect(first.location).toMatch(/\/files\//);
    const url = first.location!;
    let { offset } = await offsetOf(url);
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThanOrEqual(4 * MiB);
    // Second attempt, cut again.
    const second = await send('PATCH', url, { ...V8, 'Upload-Complete': '?1', 'Upload-Offset': String(offset), 'Content-Type': 'application/partial-upload' }, data, offset, offset + 4 * MiB);
    expect(second.status).toBe(0);
    const after = await offsetOf(url);
    expect(after.offset).toBeGreaterThan(offset);
    expect(after.complete).toBe('?0');
    offset = after.offset;
    // Last attempt completes.
    const last = await send('PATCH', url, { ...V8, 'Upload-Complete': '?1', 'Upload-Offset': String(offset), 'Content-Type': 'application/partial-upload' }, data, offset);
    expect(last.status).toBe(200);
    expect((await offsetOf(url)).complete).toBe('?1');
    expect(sha256(await storedBytes(server.dataDir, url))).toBe(sha256(data));
  });

  it('resumes after the server process is SIGKILLed mid-request and restarted on the same port and data', async () => {
    const node = await spawnServer({ FSYNC: 'false' });
    spawned.push(node);
    const data = randomBytes(24 * MiB);
    const attempt = send('POST', node.tusUrl, { ...V8, 'Upload-Complete': '?1' }, data, 0, 10 * MiB, true);
    // Kill it while the request is open, 10 MiB of its body sent (the 104 has given the URL by then).
    await new Promise((r) => setTimeout(r, 1000));
    await node.kill();
    const cut = await attempt;
    expect(cut.location).toBeDefined();
    const again = await spawnServer({ PORT: String(node.port), FSYNC: 'false' }, node.dataDir);
    spawned.push(again);
    const { offset, complete } = await offsetOf(cut.location!);
    expect(complete).toBe('?0');
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThanOrEqual(10 * MiB);
    const rest = await send('PATCH', cut.location!, { ...V8, 'Upload-Complete': '?1', 'Upload-Offset': String(offset), 'Content-Type': 'application/partial-upload' }, data, offset);
    expect(rest.status).toBe(200);
    expect(sha256(await storedBytes(again.dataDir, cut.location!))).toBe(sha256(data));
    expect(await again.terminate()).toBe(0);
    await fsp.rm(again.dataDir, { recursive: true, force: true });
  });
});
