/**
 * Security in the distributed deployment: two real nodes (`node server/dist/main.js`) on S3 (Swift
 * s3api) + Redis. Ownership, rate limits, quotas, upload-token counts and signed URLs hold across
 * nodes, because their state lives in the upload records and in Redis, never in one process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, type SpawnedServer } from '../harness.js';
import { AUTH_ENV, bearer, TUS, userToken } from '@tus-edge/testkit';
import { s3Env, startRedis, startS3, type RedisHandle, type S3Handle } from '@tus-edge/testkit';

const OCTETS = { ...TUS, 'Content-Type': 'application/offset+octet-stream' };

let redis: RedisHandle;
let s3: S3Handle;
let a: SpawnedServer;
let b: SpawnedServer;

beforeAll(async () => {
  [redis, s3] = await Promise.all([startRedis({ timeoutMs: 180_000 }), startS3({ timeoutMs: 180_000 })]);
  const env = {
    ...AUTH_ENV, ...s3Env(s3), REDIS_URL: redis.url, REDIS_PREFIX: 'sec:', S3_PART_SIZE: '5MiB', STAGING_MIN_FREE: '64MiB',
    RATE_LIMIT_REQUESTS: '40', RATE_LIMIT_CREATIONS: '0', QUOTA_UPLOADS: '2', ALLOWED_TYPES: 'text/plain,image/*',
  };
  [a, b] = await Promise.all([spawnServer({ ...env, NODE_NAME: 'a' }), spawnServer({ ...env, NODE_NAME: 'b' })]);
}, 300_000);
afterAll(async () => {
  await Promise.all([a?.terminate(), b?.terminate()]);
  await Promise.all([redis?.stop(), s3?.stop()]);
});

const create = (node: SpawnedServer, auth: Record<string, string>, length: number) =>
  fetch(node.tusUrl, { method: 'POST', headers: { ...TUS, ...auth, 'Upload-Length': String(length) } });
const pathOf = (res: Response) => new URL(res.headers.get('location')!).pathname;

describe('security across nodes (S3 + Redis)', () => {
  it('an upload made through one node is its owner\'s on the other: 404 for anyone else', async () => {
    const alice = bearer(await userToken('alice'));
    const bob = bearer(await userToken('bob'));
    const path = pathOf(await create(a, alice, 10));
    expect((await fetch(b.url + path, { method: 'HEAD', headers: { ...TUS, ...bob } })).status).toBe(404);
    expect((await fetch(b.url + path, { method: 'PATCH', headers: { ...OCTETS, ...bob, 'Upload-Offset': '0' }, body: 'hello' })).status).toBe(404);
    expect((await fetch(b.url + path, { method: 'PATCH', headers: { ...OCTETS, ...alice, 'Upload-Offset': '0' }, body: 'hello' })).status).toBe(204);
    expect((await fetch(a.url + path, { method: 'PATCH', headers: { ...OCTETS, ...alice, 'Upload-Offset': '5' }, body: 'world' })).status).toBe(204);
    // A signed URL minted on one node downloads on the other, without a token.
    const id = path.split('/').pop();
    const { url } = (await (await fetch(`${a.url}/api/uploads/${id}/signed-url`, { method: 'POST', headers: alice })).json()) as { url: string };
    const onB = new URL(url);
    const got = await fetch(`${b.url}${onB.pathname}${onB.search}`);
    expect([got.status, await got.text()]).toEqual([200, 'helloworld']);
  });

  it('a rate limit reached through one node holds on the other', async () => {
    const dave = bearer(await userToken('dave'));
    let heldOnB = false;
    for (let attempt = 0; attempt < 3 && !heldOnB; attempt++) {
      await new Promise((r) => setTimeout(r, 1100));
      // 50 at once through node A, past its 40 per second, then one through node B in the same second.
      const burst = await Promise.all(Array.from({ length: 50 }, () => fetch(`${a.url}/api/usage`, { headers: dave }).then((r) => r.status)));
      if (!burst.includes(429)) continue;
      const onB = await fetch(`${b.url}/api/usage`, { headers: dave });
      heldOnB = onB.status === 429 && Number(onB.headers.get('retry-after')) >= 1;
    }
    expect(heldOnB).toBe(true);
  });

  it('a quota counts uploads made through both nodes, and a DELETE on either gives back', async () => {
    const carol = bearer(await userToken('carol'));
    const first = await create(a, carol, 4);
    expect((await create(b, carol, 4)).status).toBe(201);
    const third = await create(a, carol, 4);
    expect(third.status).toBe(403);
    expect((await fetch(b.url + pathOf(first), { method: 'DELETE', headers: { ...TUS, ...carol } })).status).toBe(204);
    expect((await create(a, carol, 4)).status).toBe(201);
    const usage = (await (await fetch(`${b.url}/api/usage`, { headers: carol })).json()) as { usage: { uploads: number; bytes: number } };
    expect(usage.usage).toEqual({ uploads: 2, bytes: 8 });
  });

  it('an upload token counts its uploads across nodes', async () => {
    const erin = bearer(await userToken('erin'));
    const minted = await fetch(`${a.url}/api/upload-tokens`, { method: 'POST', headers: { ...erin, 'Content-Type': 'application/json' }, body: '{"maxUploads":1,"maxSize":100}' });
    const token = bearer(((await minted.json()) as { token: string }).token);
    expect((await create(a, token, 10)).status).toBe(201);
    expect((await create(b, token, 10)).status).toBe(403);
  });

  it('refuses bytes of a type not allowed on S3 storage too, and removes the upload', async () => {
    const frank = bearer(await userToken('frank'));
    const path = pathOf(await create(b, frank, 8));
    const refused = await fetch(a.url + path, { method: 'PATCH', headers: { ...OCTETS, ...frank, 'Upload-Offset': '0' }, body: Buffer.from('%PDF-1.7') });
    expect(refused.status).toBe(415);
    expect((await fetch(b.url + path, { method: 'HEAD', headers: { ...TUS, ...frank } })).status).toBe(404);
    const ok = pathOf(await create(a, frank, 8));
    expect((await fetch(b.url + ok, { method: 'PATCH', headers: { ...OCTETS, ...frank, 'Upload-Offset': '0' }, body: 'text ok!' })).status).toBe(204);
    expect(await (await fetch(a.url + ok, { headers: frank })).text()).toBe('text ok!');
  });
});
