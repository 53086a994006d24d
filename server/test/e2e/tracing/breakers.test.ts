/**
 * Circuit breakers against real services:
 * - S3 (Swift) paused with SIGSTOP: the first requests wait for the S3 request timeout and answer 503;
 *   once the breaker is open, requests answer the catalogue's 503 + Retry-After at once; /readyz and
 *   /metrics show the open breaker; after SIGCONT the upload resumes and finishes.
 * - The fake OpenAI failing for a while: the breaker opens, generate jobs wait (no dead letter, at most
 *   the one delivery spent before the breaker opened), and they all finish once it recovers.
 * Timings are printed (what an open breaker changes in latency and in deliveries).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnServer, type SpawnedServer } from '../../harness.js';
import { chatAnswer, makePdf, s3Env, startFakeOpenAI, startRedis, startS3, validStudyContent, type FakeOpenAI, type RedisHandle, type S3Handle } from '@tus-edge/testkit';
import { create, patch, send, timed } from '../distributed/client.js';


describe('S3 paused (SIGSTOP)', () => {
  let s3: S3Handle | undefined;
  let redis: RedisHandle | undefined;
  let server: SpawnedServer | undefined;
  afterEach(async () => {
    await server?.terminate();
    await Promise.all([s3?.stop(), redis?.stop()]);
    server = s3 = redis = undefined;
  });

  it('uploads answer 503 + Retry-After at once while the breaker is open, then resume', async () => {
    // Generous start bounds: Swift's ring builder is slow on a busy machine.
    [s3, redis] = await Promise.all([startS3({ timeoutMs: 120_000 }), startRedis({ timeoutMs: 60_000 })]);
    server = await spawnServer({
      ...s3Env(s3), REDIS_URL: redis.url, S3_PART_SIZE: '5MiB', STAGING_MIN_FREE: '64MiB',
      S3_REQUEST_TIMEOUT: '1s', CIRCUIT_FAILURES: '2', CIRCUIT_WINDOW: '60s', CIRCUIT_OPEN_FOR: '4s',
    });
    const base = server.url;
    const data = randomBytes(256 * 1024);
    const upload = await create(base, data.length);
    expect((await patch(base, upload, 0, data.subarray(0, 1000))).status).toBe(204);

    const pids = s3.pids;
    expect(pids.length).toBeGreaterThan(0);
    const answers: Array<{ status: number; ms: number; retryAfter?: string }> = [];
    try {
      for (const pid of pids) process.kill(pid, 'SIGSTOP');
      // Before the breaker opens: each PATCH waits for the S3 timeout (and the SDK's retries). A HEAD alone
      // would not reach S3: the part layout of the upload is kept in Redis.
      const refused = () => patch(base, upload, 1000, data.subarray(1000, 2000)).catch((err: Error) => ({ status: 0, headers: {} as Record<string, string | string[] | undefined>, body: err.message }));
      for (let i = 0; i < 8; i++) {
        const { value, ms } = await timed(refused);
        answers.push({ status: value.status, ms, retryAfter: value.headers['retry-after'] as string | undefined });
        if (value.status === 503 && ms < 200) break;
      }
      console.log(`S3 paused: PATCH answers: ${answers.map((a) => `${a.status} in ${a.ms} ms`).join(', ')}`);
      const fast = answers.at(-1)!;
      expect(fast.status).toBe(503);
      expect(fast.ms).toBeLessThan(200);
      expect(Number(fast.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(answers.slice(0, -1).every((a) => a.status === 503)).toBe(true);
      // Refused as fast again (before its body is read), and /readyz and /metrics say why.
      const head = await timed(refused);
      expect(head.value.status).toBe(503);
      expect(head.ms).toBeLessThan(200);
      const ready = (await (await fetch(`${base}/readyz`)).json()) as { circuits: Record<string, string> };
      expect(ready.circuits.s3).toBe('open');
      expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^tus_circuit_state\{service="s3"\} 2$/m);
      console.log(`S3 paused: PATCH while open: ${head.value.status} in ${head.ms} ms`);
    } finally {
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          /* already gone */
        }
      }
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
    // A PATCH that timed out while S3 was paused may still have landed once it resumed (as after any cut
    // connection): the client goes on from the offset HEAD reports, with its own bytes.
    expect([1000, 2000]).toContain(offset);
    expect((await patch(base, upload, offset, data.subarray(offset))).status).toBe(204);
    const got = await fetch(base + upload);
    expect(Buffer.from(await got.arrayBuffer()).equals(data)).toBe(true);
    const ready = (await (await fetch(`${base}/readyz`)).json()) as { status: string; circuits: Record<string, string> };
    expect(ready).toMatchObject({ status: 'ready', circuits: { s3: 'closed' } });
  }, 240_000);
});

describe('OpenAI failing for a while', () => {
  let fake: FakeOpenAI | undefined;
  let server: SpawnedServer | undefined;
  afterEach(async () => {
    await server?.terminate();
    await fake?.close();
    server = fake = undefined;
  });

  it('the breaker opens, generate jobs wait without being dead-lettered, then finish', async () => {
    fake = await startFakeOpenAI();
    const outageMs = 8000;
    let until = Number.POSITIVE_INFINITY; // down from the start; the clock starts with the first request
    fake.script('chat', (req) => {
      if (until === Number.POSITIVE_INFINITY) until = Date.now() + outageMs;
      return Date.now() < until ? { status: 503, body: { error: { message: 'overloaded', type: 'server_error' } } } : chatAnswer(validStudyContent(req));
    });
    server = await spawnServer({
      OPENAI_API_KEY: 'sk-dummy', OPENAI_BASE_URL: fake.baseURL, OPENAI_MODEL: 'gpt-e2e', OPENAI_MAX_RETRIES: '0',
      PROCESSOR_KINDS: 'documents,generate', PROCESSOR_MAX_DELIVER: '2', PROCESSOR_BACKOFF_BASE: '100', PROCESSOR_BACKOFF_MAX: '200',
      CIRCUIT_FAILURES: '2', CIRCUIT_WINDOW: '60s', CIRCUIT_OPEN_FOR: '1s',
    });
    const base = server.url;
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const pdf = makePdf([`Page one of document ${i}. `.repeat(20), `Page two of document ${i}. `.repeat(20)]);
      const res = await fetch(`${base}/files`, {
        method: 'POST', body: pdf,
        headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(pdf.length), 'Content-Type': 'application/offset+octet-stream', 'Upload-Metadata': `filetype ${Buffer.from('application/pdf').toString('base64')}` },
      });
      expect(res.status).toBe(201);
      ids.push(res.headers.get('location')!.split('/').pop()!);
    }
    let sawOpen = false;
    type Info = { processing: { state: string; jobs: Record<string, { state: string; attempts?: number; code?: string }> } | null };
    const deadline = Date.now() + 60_000;
    let infos: Info[] = [];
    for (;;) {
      const ready = (await (await fetch(`${base}/readyz`)).json()) as { circuits?: Record<string, string> };
      if (ready.circuits?.openai === 'open') sawOpen = true;
      infos = await Promise.all(ids.map(async (id) => (await (await fetch(`${base}/api/uploads/${id}`)).json()) as Info));
      if (infos.every((i) => i.processing && ['done', 'failed', 'skipped'].includes(i.processing.state))) break;
      if (Date.now() > deadline) throw new Error(`not processed: ${JSON.stringify(infos.map((i) => i.processing))}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(sawOpen).toBe(true);
    for (const info of infos) {
      expect(info.processing!.jobs.generate.state).toBe('done');
      expect(info.processing!.jobs.generate.attempts).toBeLessThanOrEqual(2);
    }
    const chat = fake.of('chat');
    const duringOutage = chat.filter((r) => r.at < until).length;
    const deliveries = infos.map((i) => i.processing!.jobs.generate.attempts);
    console.log(`OpenAI down ${outageMs} ms: ${duringOutage} chat requests during the outage (breaker probes included), deliveries per generate job ${JSON.stringify(deliveries)}, none dead-lettered`);
    // Without the breaker each of 4 jobs would have spent its 2 deliveries in well under a second and
    // been dead-lettered; with it, requests during the outage are bounded by the probes (one per open period).
    expect(duringOutage).toBeLessThan(4 * 2 + Math.ceil(outageMs / 1000) + 2);
  }, 240_000);
});
