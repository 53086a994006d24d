/**
 * The test: the fake OpenAI fails (503) for a full minute. The `openai` breaker opens after a
 * few failures (those are postponed, spending no attempt); generate jobs then wait for it without
 * being dead-lettered, probes go out once per open period, and every job finishes, on its one attempt,
 * once the API answers again. Run on both queues at once (the embedded directory queue, and JetStream
 * with Redis status): the test is mostly waiting, so the two share the minute, and nothing in it
 * needs the machine to itself (random ports, its own services), so it runs beside other suites.
 * Bounded: about 75 s; what an open breaker changes in requests and deliveries is printed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnServer, type SpawnedServer } from '../../harness.js';
import { chatAnswer, makePdf, startFakeOpenAI, startNats, startRedis, validStudyContent } from '@tus-edge/testkit';

const OUTAGE_MS = 60_000;
const OPEN_FOR_S = 5;
const UPLOADS = 4;
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

type Job = { state: string; attempts?: number; postponed?: number; code?: string };
type Info = { processing: { state: string; jobs: Record<string, Job> } | null };

async function outage(env: Record<string, string>, label: string): Promise<void> {
  const fake = await startFakeOpenAI();
  cleanups.push(() => fake.close());
  let until = Number.POSITIVE_INFINITY; // down from the start; the minute starts with the first request
  fake.script('chat', (req) => {
    if (until === Number.POSITIVE_INFINITY) until = Date.now() + OUTAGE_MS;
    return Date.now() < until ? { status: 503, body: { error: { message: 'overloaded', type: 'server_error' } } } : chatAnswer(validStudyContent(req));
  });
  const server: SpawnedServer = await spawnServer({
    ...env,
    OPENAI_API_KEY: 'sk-dummy', OPENAI_BASE_URL: fake.baseURL, OPENAI_MODEL: 'gpt-e2e', OPENAI_MAX_RETRIES: '0',
    PROCESSOR_KINDS: 'documents,generate', PROCESSOR_MAX_DELIVER: '2', PROCESSOR_BACKOFF_BASE: '200ms', PROCESSOR_BACKOFF_MAX: '1s',
    CIRCUIT_FAILURES: '3', CIRCUIT_WINDOW: '60s', CIRCUIT_OPEN_FOR: `${OPEN_FOR_S}s`,
  });
  cleanups.push(() => server.terminate());
  const base = server.url;
  const ids: string[] = [];
  for (let i = 0; i < UPLOADS; i++) {
    const pdf = makePdf([`Page one of document ${i}. `.repeat(20), `Page two of document ${i}. `.repeat(20)]);
    const res = await fetch(`${base}/files`, {
      method: 'POST', body: pdf,
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(pdf.length), 'Content-Type': 'application/offset+octet-stream', 'Upload-Metadata': `filetype ${Buffer.from('application/pdf').toString('base64')}` },
    });
    expect(res.status).toBe(201);
    ids.push(res.headers.get('location')!.split('/').pop()!);
  }
  let openSeen = 0;
  let deadLettered = false;
  const deadline = Date.now() + OUTAGE_MS + 40_000;
  let infos: Info[] = [];
  for (;;) {
    const ready = (await (await fetch(`${base}/readyz`)).json()) as { circuits?: Record<string, string> };
    if (ready.circuits?.openai === 'open') openSeen++;
    infos = await Promise.all(ids.map(async (id) => (await (await fetch(`${base}/api/uploads/${id}`)).json()) as Info));
    // While the API is down no job may end failed (dead-lettered).
    if (infos.some((i) => i.processing?.jobs.generate?.state === 'failed')) deadLettered = true;
    if (infos.every((i) => i.processing && ['done', 'failed', 'skipped'].includes(i.processing.state))) break;
    if (Date.now() > deadline) throw new Error(`${label}: not processed: ${JSON.stringify(infos.map((i) => i.processing))}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const finishedAfterRecovery = Date.now() - until;
  const chat = fake.of('chat');
  const during = chat.filter((r) => r.at < until).length;
  const jobs = infos.map((i) => i.processing!.jobs.generate);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  console.log(
    `${label}: OpenAI down ${OUTAGE_MS / 1000} s: ${during} chat requests during the outage (failures before the breaker opened + one probe per ${OPEN_FOR_S} s open period), ` +
      `generate jobs attempts ${JSON.stringify(jobs.map((j) => j.attempts))} postponed ${JSON.stringify(jobs.map((j) => j.postponed ?? 0))}, ` +
      `all done ${Math.round(finishedAfterRecovery / 100) / 10} s after it recovered, none dead-lettered`,
  );
  expect(openSeen).toBeGreaterThan(0);
  expect(deadLettered).toBe(false);
  for (const job of jobs) expect(job).toMatchObject({ state: 'done', attempts: 1 });
  expect(metrics).toMatch(/^processor_jobs_dead_lettered_total\{kind="generate"\} 0$/m);
  // Without the breaker each job would try every backoff (0.2–1 s) for a minute: ~60+ requests each.
  // With it: the failures that opened it, then one probe per open period.
  expect(during).toBeLessThan(UPLOADS + 3 + Math.ceil(OUTAGE_MS / (OPEN_FOR_S * 1000)) + 4);
  // Recovery is noticed by the next probe (at most one open period) and then the jobs run.
  expect(finishedAfterRecovery).toBeLessThan(OPEN_FOR_S * 1000 + 25_000);
}

describe.concurrent('OpenAI failing for a full minute', () => {
  it('embedded (directory queue, file status): the breaker opens, jobs wait without being dead-lettered, then finish', async () => {
    await outage({}, 'embedded');
  }, OUTAGE_MS + 90_000);

  it('JetStream and Redis status (processors in the server process): the same', async () => {
    const [nats, redis] = await Promise.all([startNats(), startRedis()]);
    cleanups.push(() => nats.stop(), () => redis.stop());
    await outage({ NATS_URL: nats.url, REDIS_URL: redis.url, PROCESSORS_IN_PROCESS: 'true' }, 'jetstream');
  }, OUTAGE_MS + 90_000);
});
