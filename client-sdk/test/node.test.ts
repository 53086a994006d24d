/**
 * The SDK in Node (the package's `node` export, as applications import it) against the compiled
 * server: an upload, in one request stream and in parallel, then its processing followed over SSE and
 * by polling, and its typed results; and the token callback's mechanics through an auth proxy that
 * speaks the server's upload-token flow (AUTH_MODE=jwt) (`POST /api/upload-tokens` -> 201 `{ token }`, `Authorization:
 * Bearer`, 401 for an expired or revoked token): an upload keeps its token, and one that expires or
 * is revoked is replaced after one 401.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createClient, TusEdgeError, type ProcessingStatus } from '@tus-edge/client-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthProxy } from './support/auth-proxy.js';
import { makePdf, spawnServer, type SpawnedServer } from './support/services.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
let server: SpawnedServer;

beforeAll(async () => {
  server = await spawnServer();
}, 60_000);
afterAll(async () => {
  if (server && server.child.exitCode === null) await server.terminate();
  if (server) await fsp.rm(server.dataDir, { recursive: true, force: true });
});

const stored = (id: string) => fsp.readFile(path.join(server.dataDir, 'uploads', id));

describe('the SDK in Node', () => {
  it('uploads a PDF, follows its processing over SSE (and by polling) and reads the typed results', async () => {
    const client = createClient({ endpoint: `${server.tusUrl}/`, chunkSize: 64 * KiB });
    const pdf = makePdf(['Chapter one: tus.', 'Chapter two: resumable uploads.'], { Title: 'Notes' });
    const progress: number[] = [];
    const handle = client.upload(pdf, { metadata: { filename: 'notes.pdf', filetype: 'application/pdf' }, onProgress: (p) => progress.push(p.percent) });
    const { id, url } = await handle.done;
    expect(url).toBe(`${server.tusUrl}/${id}`);
    expect(handle.state).toBe('uploaded');
    expect(progress.at(-1)).toBe(100);
    expect(sha256(await stored(id))).toBe(sha256(pdf));

    const seen: ProcessingStatus[] = [];
    const status = await client.watchProcessing(id, { onStatus: (s) => seen.push(s) });
    expect(status.state).toBe('done');
    expect(status.jobs.documents?.state).toBe('done');
    expect(seen.at(-1)).toEqual(status);
    const polled = await client.watchProcessing(id, { poll: true, pollIntervalMs: 100 });
    expect(polled.state).toBe('done');

    const info = await client.getUpload(id);
    expect(info.state).toBe('finished');
    expect(info.metadata.filename).toBe('notes.pdf');
    const results = await client.results(id);
    expect(results.text?.unit).toBe('page');
    expect(results.text?.segments.map((s) => s.ref)).toEqual([1, 2]);
    expect(results.textFile?.url).toBe(`${server.url}/api/uploads/${id}/results/text.txt`);
    expect(await (await client.fetchResult(results.textFile!)).text()).toContain('resumable uploads');
    expect(results.chapters).toEqual([]); // no OpenAI key: generated content is skipped
  });

  it('uploads a file stream whose size is given', async () => {
    const file = path.join(server.dataDir, 'stream-source.bin');
    const data = randomBytes(2 * MiB + 3);
    await fsp.writeFile(file, data);
    const client = createClient({ endpoint: `${server.tusUrl}/`, chunkSize: 512 * KiB });
    const { id } = await client.upload(fs.createReadStream(file), { size: data.length }).done;
    expect(sha256(await stored(id))).toBe(sha256(data));
  });

  it('abort() stops the upload, deletes it on the server and rejects done with ABORTED', async () => {
    const client = createClient({ endpoint: `${server.tusUrl}/`, chunkSize: 256 * KiB });
    const handle = client.upload(randomBytes(8 * MiB), {
      onProgress: (p) => {
        if (p.bytesUploaded >= MiB && handle.state === 'uploading') void handle.abort();
      },
    });
    const err = (await handle.done.catch((e: unknown) => e)) as TusEdgeError;
    expect(err).toBeInstanceOf(TusEdgeError);
    expect(err.code).toBe('ABORTED');
    expect(handle.state).toBe('aborted');
    const url = handle.url!;
    for (let i = 0; i < 50; i++) {
      const head = await fetch(url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
      if (head.status === 404 || head.status === 410) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${url} still exists after abort()`);
  });

  it('uploads in parallel above the threshold, and reports server errors with their catalogue code', async () => {
    const client = createClient({ endpoint: `${server.tusUrl}/`, parallelThreshold: MiB, parallelUploads: 3 });
    const data = randomBytes(3 * MiB + 17);
    const handle = client.upload(data);
    expect(handle.parallel).toBe(true);
    const { url } = await handle.done;
    expect(sha256(new Uint8Array(await (await fetch(url)).arrayBuffer()))).toBe(sha256(data));

    // tus-js-client's Node build reads Buffers and streams, not Blobs: refused before any request.
    const blob = (await client.upload(new Blob(['x'])).done.catch((e: unknown) => e)) as TusEdgeError;
    expect(blob.code).toBe('UPLOAD_FAILED');
    expect(blob.retryable).toBe(false);

    const err = await client.getUpload('no-such-upload').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TusEdgeError);
    expect((err as TusEdgeError).code).toBe('UPLOAD_NOT_FOUND');
    expect((err as TusEdgeError).status).toBe(404);
  });
});

describe('the SDK token callback (against an auth proxy speaking the upload-token flow)', () => {
  const fetchToken = (proxyUrl: string, calls: { n: number }) => async () => {
    calls.n++;
    const res = await fetch(`${proxyUrl}/api/upload-tokens`, { method: 'POST' });
    expect(res.status).toBe(201);
    return ((await res.json()) as { token: string }).token;
  };

  it('an upload keeps the token it started with; one that expires mid-upload is replaced after one 401', async () => {
    const proxy = await startAuthProxy(server.url, 3000);
    try {
      const calls = { n: 0 };
      const client = createClient({ endpoint: `${proxy.url}/files/`, chunkSize: 256 * KiB, token: fetchToken(proxy.url, calls) });
      const data = randomBytes(4 * MiB);
      const { id } = await client.upload(data).done;
      expect(sha256(await stored(id))).toBe(sha256(data));
      expect(proxy.stats.patches).toBe(16);
      // 16 PATCHes of 250 ms outlive a 3 s token (more than one on a busy machine): each is refused
      // once, then a new one carries on.
      expect(proxy.stats.refused).toBeGreaterThanOrEqual(1);
      expect(calls.n).toBe(proxy.stats.refused + 1);
      // The API calls carry the upload's token too (refreshed after one more 401 if it expired since).
      expect((await client.getUpload(id)).state).toBe('finished');
      expect(calls.n).toBe(proxy.stats.refused + 1);
    } finally {
      await proxy.close();
    }
  });

  it('replaces a revoked token after one 401 and carries on; a refused static token fails with the server\'s code', async () => {
    const proxy = await startAuthProxy(server.url, 60_000);
    try {
      proxy.revokeAt(3);
      const calls = { n: 0 };
      const client = createClient({ endpoint: `${proxy.url}/files/`, chunkSize: 256 * KiB, token: fetchToken(proxy.url, calls) });
      const data = randomBytes(MiB + 5);
      const { id } = await client.upload(data).done;
      expect(sha256(await stored(id))).toBe(sha256(data));
      expect(proxy.stats.refused).toBe(1);
      expect(calls.n).toBe(2);

      const stale = createClient({ endpoint: `${proxy.url}/files/`, token: 'not-a-token' });
      const err = (await stale.upload(randomBytes(10)).done.catch((e: unknown) => e)) as TusEdgeError;
      expect(err).toBeInstanceOf(TusEdgeError);
      expect(err.status).toBe(401);
      expect(err.code).toBe('UNAUTHORIZED');
    } finally {
      await proxy.close();
    }
  });
});
