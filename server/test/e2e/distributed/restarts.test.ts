/**
 * The backing services go away mid-upload: Redis (with its append-only file, as in production) and
 * the S3 server are restarted between and during PATCHes. Uploads resume once they are back and no
 * acknowledged byte is lost.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '@tus-edge/testkit';
import { create, offsetAt, patch, sha256, readObject } from './client.js';

const MiB = 1024 * 1024;
let stack: Stack;

beforeAll(async () => {
  // The S3 breaker opens while S3 is away (readiness probes count as calls) and is tried again after
  // CIRCUIT_OPEN_FOR (default 15 s, longer than Swift takes to restart on a quiet machine): 3 s here.
  stack = await startStack({ nodes: 2, env: { LOCK_TTL: '2s', S3_PART_SIZE: '5MiB', STAGING_MIN_FREE: '64MiB', CIRCUIT_OPEN_FOR: '3s' } });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const storedObject = (path: string) => readObject(stack, path);

/** PATCHes the rest of `data` from the offset the server reports, retrying while a service is back-filling. */
async function finish(base: string, path: string, data: Buffer): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const offset = await offsetAt(base, path);
      if (offset === data.length) return;
      const r = await patch(base, path, offset, data.subarray(offset));
      if (r.status === 204) return;
    } catch {
      /* service still coming back */
    }
    if (Date.now() > deadline) throw new Error('upload did not resume within 30 s');
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe('distributed: backing services restart mid-upload', () => {
  it('Redis restarted between PATCHes: the upload resumes at the acknowledged offset', async () => {
    const data = randomBytes(12 * MiB + 5);
    const [a, b] = stack.nodes.map((n) => n.url);
    const path = await create(a, data.length);
    const first = await patch(a, path, 0, data.subarray(0, 5 * MiB));
    expect(first.status, first.body).toBe(204);
    await stack.redis.restart();
    expect(await offsetAt(b, path)).toBe(5 * MiB);
    await finish(b, path, data);
    expect(sha256(await storedObject(path))).toBe(sha256(data));
  });

  it('S3 down during a PATCH: the PATCH fails clearly, acknowledged bytes stay, and it resumes once S3 is back', async () => {
    const data = randomBytes(16 * MiB + 9);
    const [a, b] = stack.nodes.map((n) => n.url);
    const path = await create(a, data.length);
    const first = await patch(a, path, 0, data.subarray(0, 5 * MiB));
    expect(first.status, first.body).toBe(204);
    const restarting = stack.s3.restart();
    // While S3 is away a write is refused with an error naming it, never acknowledged.
    const during = await patch(b, path, 5 * MiB, data.subarray(5 * MiB, 10 * MiB)).catch(() => undefined);
    if (during && during.status !== 204) expect(during.status).toBeGreaterThanOrEqual(500);
    await restarting;
    const acknowledged = during?.status === 204 ? 10 * MiB : 5 * MiB;
    expect(await offsetAt(a, path)).toBeGreaterThanOrEqual(acknowledged);
    await finish(a, path, data);
    expect(sha256(await storedObject(path))).toBe(sha256(data));
  });

  it('readiness turns 503 naming the storage while S3 is down, and 200 once it is back', async () => {
    const node = stack.nodes[0].url;
    let restarted = false;
    const restarting = stack.s3.restart().then(() => (restarted = true));
    const seen = new Set<string>();
    while (!restarted) {
      const r = await fetch(`${node}/readyz`);
      const body = (await r.json()) as { status: string; failed?: Record<string, string> };
      if (r.status === 503) seen.add(Object.keys(body.failed ?? {}).join(','));
      await new Promise((res) => setTimeout(res, 50));
    }
    await restarting;
    expect(seen).toContain('storage');
    const deadline = Date.now() + 10_000;
    let last: Response;
    while ((last = await fetch(`${node}/readyz`)).status !== 200) {
      if (Date.now() > deadline) throw new Error(`not ready again within 10 s: ${await last.text()}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  });
});
