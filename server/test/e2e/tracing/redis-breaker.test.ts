/**
 * Redis paused with SIGSTOP under a server that keeps records, locks and rate limits in it (file
 * storage, so only Redis is out): the first requests wait for `REDIS_COMMAND_TIMEOUT` and answer the
 * catalogue's 503 + Retry-After; once the `redis` breaker is open, POST, HEAD and PATCH answer it at
 * once; `/readyz` and `/metrics` show the open breaker; after SIGCONT the upload resumes and finishes.
 * Timings are printed (what an open breaker changes in latency).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnServer, type SpawnedServer } from '../../harness.js';
import { startRedis, type RedisHandle } from '@tus-edge/testkit';
import { create, patch, send, timed } from '../distributed/client.js';

/** Well under the 1 s command timeout a request waits per command before the breaker opens (loaded machine). */
const FAST_MS = 400;

describe('Redis paused (SIGSTOP)', () => {
  let redis: RedisHandle | undefined;
  let server: SpawnedServer | undefined;
  afterEach(async () => {
    await server?.terminate();
    if (redis) {
      try {
        process.kill(redis.pid, 'SIGCONT');
      } catch {
        /* gone */
      }
      await redis.stop();
    }
    server = redis = undefined;
  });

  it('uploads answer 503 + Retry-After at once while the redis breaker is open, then resume', async () => {
    redis = await startRedis({ timeoutMs: 60_000 });
    server = await spawnServer({
      REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT: '1s', CIRCUIT_FAILURES: '2', CIRCUIT_WINDOW: '60s', CIRCUIT_OPEN_FOR: '3s',
      RATE_LIMIT_REQUESTS: '100000', PROCESSOR_KINDS: 'fingerprint',
    });
    const base = server.url;
    const data = randomBytes(256 * 1024);
    const upload = await create(base, data.length);
    expect((await patch(base, upload, 0, data.subarray(0, 1000))).status).toBe(204);
    const ready0 = (await (await fetch(`${base}/readyz`)).json()) as { circuits: Record<string, string> };
    expect(ready0.circuits.redis).toBe('closed');

    const pid = redis.pid;
    const answers: Array<{ status: number; ms: number; retryAfter?: string; code?: string }> = [];
    process.kill(pid, 'SIGSTOP');
    try {
      // Before the breaker opens each request waits for the command timeout; then they fail at once.
      for (let i = 0; i < 8; i++) {
        const { value, ms } = await timed(() => send(base + upload, 'HEAD', {}));
        answers.push({ status: value.status, ms, retryAfter: value.headers['retry-after'] as string | undefined });
        if (value.status === 503 && ms < FAST_MS) break;
      }
      console.log(`Redis paused: HEAD answers: ${answers.map((a) => `${a.status} in ${a.ms} ms`).join(', ')}`);
      const fast = answers.at(-1)!;
      expect(fast.status).toBe(503);
      expect(fast.ms).toBeLessThan(FAST_MS);
      expect(Number(fast.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(answers.every((a) => a.status === 503)).toBe(true);
      expect(answers[0].ms).toBeGreaterThanOrEqual(900); // it waited for the command timeout…
      expect(answers[0].ms).toBeLessThan(15_000); // …and no longer: bounded, not hanging

      // POST and PATCH are refused as fast, with the catalogue's code; /readyz and /metrics say why.
      const post = await timed(() => send(`${base}/files`, 'POST', { 'Upload-Length': '10' }));
      const put = await timed(() => patch(base, upload, 1000, data.subarray(1000, 2000)));
      for (const r of [post, put]) {
        expect(r.value.status).toBe(503);
        expect(r.ms).toBeLessThan(FAST_MS);
        expect(Number(r.value.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      }
      expect(JSON.parse(post.value.body)).toMatchObject({ error: { code: 'COORDINATION_UNAVAILABLE' } });
      console.log(`Redis paused, breaker open: POST ${post.value.status} in ${post.ms} ms, PATCH ${put.value.status} in ${put.ms} ms`);
      const readyz = await timed(() => fetch(`${base}/readyz`));
      const ready = (await readyz.value.json()) as { status: string; circuits: Record<string, string> };
      expect(readyz.value.status).toBe(503);
      expect(ready.circuits.redis).toBe('open');
      expect(readyz.ms).toBeLessThan(1000);
      expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^tus_circuit_state\{service="redis"\} 2$/m);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // After resuming: once the open period is over a probe closes the breaker and the upload goes on.
    const deadline = Date.now() + 30_000;
    let offset = -1;
    while (Date.now() < deadline) {
      const r = await send(base + upload, 'HEAD', {});
      if (r.status === 200) {
        offset = Number(r.headers['upload-offset']);
        break;
      }
      await new Promise((res) => setTimeout(res, 250));
    }
    expect(offset).toBe(1000);
    expect((await patch(base, upload, 1000, data.subarray(1000))).status).toBe(204);
    const got = await fetch(base + upload);
    expect(Buffer.from(await got.arrayBuffer()).equals(data)).toBe(true);
    const ready = (await (await fetch(`${base}/readyz`)).json()) as { status: string; circuits: Record<string, string> };
    expect(ready).toMatchObject({ status: 'ready', circuits: { redis: 'closed' } });
  }, 120_000);
});
