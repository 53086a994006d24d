/**
 * Soak: hundreds of uploads through nginx over three nodes, with connections cut mid-body at random
 * and every upload resumed from the offset the (possibly different) next node reports. Every
 * finished upload must be byte-exact. Bounded in count and time; loopback only.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startStack, type Stack } from '@tus-edge/testkit';
import { create, offsetAt, openPatch, patch, sha256 } from './client.js';

const UPLOADS = 200;
const CONCURRENCY = 8;
const KiB = 1024;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ nodes: 3, env: { LOCK_TTL: '2s', S3_PART_SIZE: '5MiB', STAGING_MIN_FREE: '64MiB' } });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

async function uploadWithCuts(stats: { cuts: number; patches: number; busy: number }): Promise<void> {
  const data = randomBytes(randomInt(1, 1536) * KiB + randomInt(0, 1000));
  const path = await create(stack.url, data.length);
  let offset = 0;
  while (offset < data.length) {
    const chunk = data.subarray(offset, Math.min(data.length, offset + randomInt(64 * KiB, 768 * KiB)));
    stats.patches++;
    if (randomInt(100) < 30) {
      // The client loses its network half-way through this chunk.
      const open = openPatch(stack.url, path, offset, chunk.length);
      await open.write(chunk.subarray(0, randomInt(1, chunk.length)));
      await new Promise((r) => setTimeout(r, randomInt(5, 40)));
      open.cut();
      stats.cuts++;
      offset = await offsetAt(stack.url, path);
      continue;
    }
    const r = await patch(stack.url, path, offset, chunk);
    if (r.status === 204) offset = Number(r.headers['upload-offset']);
    else if ([400, 409, 423].includes(r.status)) offset = await offsetAt(stack.url, path);
    else if (r.status === 503 && r.headers['retry-after']) {
      // The object store was busy past the node's own retries; like tus-js-client, wait and resume.
      stats.busy++;
      await new Promise((resolve) => setTimeout(resolve, Number(r.headers['retry-after']) * 1000));
      offset = await offsetAt(stack.url, path);
    } else throw new Error(`PATCH ${r.status} ${r.body}`);
  }
  const got = await fetch(stack.url + path);
  expect(got.status).toBe(200);
  expect(sha256(Buffer.from(await got.arrayBuffer()))).toBe(sha256(data));
}

it(`${UPLOADS} uploads across nodes with random cuts and resumes are all byte-exact`, async () => {
  const stats = { cuts: 0, patches: 0, busy: 0 };
  const started = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < UPLOADS) {
        next++;
        await uploadWithCuts(stats);
      }
    }),
  );
  console.log(`soak: ${UPLOADS} uploads, ${stats.patches} PATCHes, ${stats.cuts} cut mid-body, ${stats.busy} answered 503 (store busy), ${((Date.now() - started) / 1000).toFixed(1)} s`);
  expect(stats.cuts).toBeGreaterThan(UPLOADS / 10);
}, 300_000);
