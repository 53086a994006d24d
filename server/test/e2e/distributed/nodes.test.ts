/**
 * Any node serves any chunk: three server nodes on S3 + Redis behind nginx round-robin (the local
 * stack, real Swift/Redis/NATS/nginx), with nodes killed and locks contended across nodes.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import * as tus from 'tus-js-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '@tus-edge/testkit';
import { create, offsetAt, openPatch, patch, send, sha256, readObject } from './client.js';

const MiB = 1024 * 1024;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ nodes: 3, env: { LOCK_TTL: '2s', S3_PART_SIZE: '5MiB', STAGING_MIN_FREE: '64MiB' } });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const storedObject = (path: string) => readObject(stack, path);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('distributed: any node serves any chunk', () => {
  it('takes one upload whose PATCHes land on three different nodes in turn; every node agrees on the offset', async () => {
    const data = randomBytes(13 * MiB + 7);
    const [n1, n2, n3] = stack.nodes.map((n) => n.url);
    const path = await create(n1, data.length);
    const cuts = [0, 5 * MiB, 10 * MiB, data.length];
    for (const [i, node] of [n1, n2, n3].entries()) {
      const r = await patch(node, path, cuts[i], data.subarray(cuts[i], cuts[i + 1]));
      expect(r.status, r.body).toBe(204);
      expect(Number(r.headers['upload-offset'])).toBe(cuts[i + 1]);
      for (const other of [n1, n2, n3]) expect(await offsetAt(other, path)).toBe(cuts[i + 1]);
    }
    expect(sha256(await storedObject(path))).toBe(sha256(data));
    const viaNginx = await fetch(stack.url + path);
    expect(viaNginx.status).toBe(200);
    expect(sha256(Buffer.from(await viaNginx.arrayBuffer()))).toBe(sha256(data));
  });

  it('uploads with tus-js-client through nginx round-robin, chunk after chunk on whichever node', async () => {
    const data = randomBytes(17 * MiB + 3);
    const url = await new Promise<string>((resolve, reject) => {
      const upload = new tus.Upload(Readable.from([data]) as unknown as tus.Upload['file'], {
        endpoint: `${stack.url}/files/`,
        uploadSize: data.length,
        chunkSize: 5 * MiB,
        retryDelays: [100, 500],
        metadata: { filename: 'clip.bin', filetype: 'application/octet-stream' },
        onError: reject,
        onSuccess: () => resolve(upload.url!),
      });
      upload.start();
    });
    expect(sha256(await storedObject(new URL(url).pathname))).toBe(sha256(data));
  });

  it('survives kill -9 of the node receiving a PATCH: another node resumes it, and the S3 object is byte-exact', async () => {
    const data = randomBytes(24 * MiB + 11);
    const [victim, survivor] = [stack.nodes[0], stack.nodes[1]];
    const path = await create(survivor.url, data.length);
    const open = openPatch(victim.url, path, 0, data.length);
    for (let sent = 0; sent < 14 * MiB; sent += MiB) await open.write(data.subarray(sent, sent + MiB));
    await sleep(1500);
    await victim.kill('SIGKILL');
    await expect(open.reply).rejects.toThrow();
    // The dead node's lock frees itself after LOCK_TTL; parts it finished uploading are kept.
    const offset = await offsetAt(survivor.url, path);
    expect(offset).toBeGreaterThanOrEqual(0);
    expect(offset).toBeLessThanOrEqual(14 * MiB);
    const rest = await patch(survivor.url, path, offset, data.subarray(offset));
    expect(rest.status, rest.body).toBe(204);
    expect(sha256(await storedObject(path))).toBe(sha256(data));
    await victim.start();
  });

  it('makes a stalled PATCH on one node let go when another node needs the upload, in well under a second', async () => {
    const data = randomBytes(8 * MiB);
    const [a, b] = [stack.nodes[1].url, stack.nodes[2].url];
    const path = await create(a, data.length);
    const stalled = openPatch(a, path, 0, data.length);
    await stalled.write(data.subarray(0, MiB));
    await sleep(500);
    const started = performance.now();
    const head = await send(b + path, 'HEAD', {});
    const handoverMs = performance.now() - started;
    console.log(`stalled holder → HEAD on another node answered in ${handoverMs.toFixed(0)} ms`);
    expect(head.status).toBe(200);
    expect(handoverMs).toBeLessThan(1000);
    const interrupted = await stalled.reply;
    expect(interrupted.status).toBe(400);
    expect(JSON.parse(interrupted.body).error.code).toBe('UPLOAD_INTERRUPTED');
    // Every byte the stalled request delivered is kept, and both nodes say so.
    expect(Number(head.headers['upload-offset'])).toBe(MiB);
    expect(Number(interrupted.headers['upload-offset'])).toBe(MiB);
    const rest = await patch(b, path, MiB, data.subarray(MiB));
    expect(rest.status, rest.body).toBe(204);
    expect(sha256(await storedObject(path))).toBe(sha256(data));
  });

  it('two clients PATCH one upload through two nodes: clear errors for the loser, and the bytes are one client\'s, never a mix', async () => {
    const length = 6 * MiB;
    const bodies = [randomBytes(length), randomBytes(length)];
    const [a, b] = [stack.nodes[0].url, stack.nodes[2].url];
    const path = await create(a, length);
    const replies = await Promise.all([patch(a, path, 0, bodies[0]), patch(b, path, 0, bodies[1])]);
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 204).length).toBeLessThanOrEqual(1);
    for (const r of replies) {
      if (r.status !== 204) expect(['UPLOAD_INTERRUPTED', 'OFFSET_MISMATCH', 'LOCK_TIMEOUT']).toContain(JSON.parse(r.body).error.code);
    }
    let offset = await offsetAt(a, path);
    // Whose bytes are stored: the request that stored them reported this offset.
    const owner = replies.findIndex((r) => Number(r.headers['upload-offset']) === offset && r.status !== 409);
    expect(owner).toBeGreaterThanOrEqual(0);
    if (offset < length) {
      const rest = await patch(b, path, offset, bodies[owner].subarray(offset));
      expect(rest.status, rest.body).toBe(204);
      offset = length;
    }
    expect(sha256(await storedObject(path))).toBe(sha256(bodies[owner]));
  });
});
