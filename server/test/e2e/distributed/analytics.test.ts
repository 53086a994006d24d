/**
 * The job history on the distributed deployment: two server nodes (in this process) sharing a real S3
 * (Swift s3api), Redis, NATS JetStream and PostgreSQL, and a separate processor worker process
 * (`npm run processors`, its compiled entry) running fingerprint and documents. The worker publishes
 * each attempt on `analytics.attempts`; the nodes' shared consumer writes each once into PostgreSQL
 * with the upload's owner; either node answers the analytics API from it.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  httpRequest, makePdf, OCTET, s3Env, startNats, startPostgres, startRedis, startS3, TUS,
  startProcessorWorker, type NatsHandle, type PostgresHandle, type ProcessorWorker, type RedisHandle, type S3Handle,
} from '@tus-edge/testkit';
import { startTestServer, tempDir, type TestServer } from '../../harness.js';

let redis: RedisHandle;
let s3: S3Handle;
let nats: NatsHandle;
let postgres: PostgresHandle;
let nodes: TestServer[] = [];
let worker: ProcessorWorker | undefined;

beforeAll(async () => {
  [redis, s3, nats, postgres] = await Promise.all([
    startRedis({ timeoutMs: 120_000 }), startS3({ timeoutMs: 120_000 }), startNats({ timeoutMs: 120_000 }), startPostgres({ timeoutMs: 120_000 }),
  ]);
  const env = {
    ...s3Env(s3), REDIS_URL: redis.url, REDIS_PREFIX: `analytics-${Date.now()}:`, NATS_URL: nats.url,
    DATABASE_URL: await postgres.createDatabase('analytics_nodes'), S3_PART_SIZE: '5MiB', STAGING_MIN_FREE: '64MiB',
  };
  nodes = [await startTestServer({ ...env, NODE_NAME: 'n1' }), await startTestServer({ ...env, NODE_NAME: 'n2' })];
  worker = await startProcessorWorker({ ...env, DATA_DIR: await tempDir(), LOG_LEVEL: 'warn', NODE_NAME: 'worker-1', PROCESSOR_KINDS: 'fingerprint,documents' }, 60_000);
}, 400_000);
afterAll(async () => {
  await worker?.stop();
  for (const n of nodes) await n.close();
  await Promise.all([redis?.stop(), s3?.stop(), nats?.stop(), postgres?.stop()]);
});

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not in time: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('distributed job history (S3, Redis, JetStream, PostgreSQL; a separate worker)', () => {
  it("a PDF processed by the worker: its attempts are written once, and both nodes report the documents job with a duration", async () => {
    const pdf = makePdf(['Page one.', 'Page two.', 'Page three.'], { Title: 'Distributed' });
    const meta = `filename ${Buffer.from('d.pdf').toString('base64')},filetype ${Buffer.from('application/pdf').toString('base64')}`;
    const res = await httpRequest(nodes[0]!.tusUrl, 'POST', { ...TUS, 'Upload-Length': String(pdf.length), 'Upload-Metadata': meta, 'Content-Type': OCTET }, pdf);
    expect(res.status).toBe(201);
    const id = String(res.headers.location).split('/').pop()!;

    for (const node of nodes) {
      const report = await until(`processing on ${node.url}`, async () => (await (await fetch(`${node.url}/api/analytics/processing?groupBy=kind`)).json()) as any,
        (r) => ['fingerprint', 'documents'].every((k) => r.groups.some((g: any) => g.key === k && g.done === 1)));
      const documents = report.groups.find((g: any) => g.key === 'documents');
      expect(documents).toMatchObject({ jobs: 1, done: 1, failed: 0 });
      expect(documents.durationMs.p50).toBeGreaterThan(0);
    }
    // One row per attempt, written by one node; the worker's name and the custom counters came along.
    const rows = await nodes[1]!.deps.history.dailyReport(new Date().toISOString().slice(0, 10));
    expect(rows.kinds.find((k) => k.kind === 'documents')).toMatchObject({ attempts: 1, done: 1, metrics: { pages: 3 } });
    const byType = (await (await fetch(`${nodes[1]!.url}/api/analytics/processing?groupBy=mediaType`)).json()) as any;
    expect(byType.groups.find((g: any) => g.key === 'application/pdf')).toMatchObject({ jobs: 2, done: 2 });
    // The records left the work-queue stream once written and acked.
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      await until('stream drained', async () => (await jsm.streams.info('ANALYTICS')).state.messages, (n) => n === 0);
    } finally {
      await nc.close();
    }
    const usage = await until('usage', async () => (await (await fetch(`${nodes[0]!.url}/api/analytics/usage`)).json()) as any, (u) => u.days[0]?.uploads === 1);
    expect(usage.days[0].bytes).toBe(pdf.length);
    expect(id).toBeTruthy();
  }, 120_000);
});
