/**
 * Processing on request on the distributed deployment: two server nodes (in this process) sharing a
 * real S3 (Swift s3api), Redis, PostgreSQL and NATS JetStream, and a separate processor worker
 * (`processors/dist/main.js`). A request made on one node is idempotent on the other (the key is bound
 * in Redis), goes through JetStream to the worker, and its state and the earlier result (kept as a
 * version in S3) read back from either node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  httpRequest, OCTET, s3Env, startNats, startPostgres, startRedis, startS3, TUS,
  startProcessorWorker, type NatsHandle, type PostgresHandle, type ProcessorWorker, type RedisHandle, type S3Handle,
} from '@tus-edge/testkit';
import { startTestServer, tempDir, type TestServer } from '../../harness.js';

let redis: RedisHandle;
let s3: S3Handle;
let postgres: PostgresHandle;
let nats: NatsHandle;
let nodes: TestServer[] = [];
let worker: ProcessorWorker | undefined;

beforeAll(async () => {
  [redis, s3, postgres, nats] = await Promise.all([
    startRedis({ timeoutMs: 120_000 }), startS3({ timeoutMs: 120_000 }), startPostgres({ timeoutMs: 120_000 }), startNats({ timeoutMs: 120_000 }),
  ]);
  const shared = { ...s3Env(s3), REDIS_URL: redis.url, REDIS_PREFIX: `process-${Date.now()}:`, NATS_URL: nats.url };
  const env = { ...shared, DATABASE_URL: await postgres.createDatabase('process_nodes'), S3_PART_SIZE: '5MiB', STAGING_MIN_FREE: '64MiB', PROCESSORS_IN_PROCESS: 'false' };
  nodes = [await startTestServer({ ...env, NODE_NAME: 'n1' }), await startTestServer({ ...env, NODE_NAME: 'n2' })];
  worker = await startProcessorWorker({ ...shared, DATA_DIR: await tempDir(), LOG_LEVEL: 'warn', PROCESSOR_KINDS: 'fingerprint,documents' }, 60_000);
}, 400_000);
afterAll(async () => {
  await worker?.stop();
  for (const n of nodes) await n.close();
  await Promise.all([redis?.stop(), s3?.stop(), postgres?.stop(), nats?.stop()]);
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const json = async (url: string) => (await fetch(url)).json() as Promise<any>;
const post = (node: TestServer, fileId: string, body: unknown, key: string) =>
  fetch(`${node.url}/api/files/${fileId}/process`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key }, body: JSON.stringify(body) });

describe('processing on request (distributed: S3, Redis, PostgreSQL, JetStream, a separate worker)', () => {
  it('a request on one node is the same job on the other, runs on the worker, and keeps the earlier text as a version in S3', async () => {
    const [n1, n2] = nodes;
    const text = Buffer.from('# Notes\n\nCells are the unit of life.\n\n# More\n\nMitochondria make ATP.\n');
    const meta = `filename ${Buffer.from('notes.md').toString('base64')},filetype ${Buffer.from('text/markdown').toString('base64')}`;
    const created = await httpRequest(n1.tusUrl, 'POST', { ...TUS, 'Upload-Length': String(text.length), 'Upload-Metadata': meta, 'Content-Type': OCTET }, text);
    expect(created.status).toBe(201);
    const uploadId = String(created.headers.location).split('/').pop()!;
    await until('processed', async () => ((await json(`${n2.url}/api/uploads/${uploadId}`)).processing?.state === 'done' ? true : undefined));
    const file = await until('catalogued', async () => (await json(`${n2.url}/api/files`)).files.find((f: any) => f.uploadId === uploadId));

    const first = await post(n1, file.id, { kinds: ['documents'], priority: 'high' }, 'notes-text');
    expect(first.status).toBe(202);
    const { jobId } = (await first.json()) as { jobId: string };
    const replay = await post(n2, file.id, { priority: 'high', kinds: ['documents'] }, 'notes-text');
    expect(replay.status).toBe(202);
    expect(((await replay.json()) as any).jobId).toBe(jobId);

    const job = await until('job done', async () => {
      const j = await json(`${n2.url}/api/files/${file.id}/process/${jobId}`);
      return ['done', 'failed'].includes(j.status) ? j : undefined;
    });
    // No plan and PROCESS_MAX_PRIORITY at its default: the asked-for high lane is capped at normal.
    expect(job).toMatchObject({ status: 'done', lane: 'normal', kinds: { documents: { state: 'done', attempts: 1 } } });
    const versions = await json(`${n1.url}/api/uploads/${uploadId}/results/text.json/versions`);
    expect(versions.versions).toEqual([expect.objectContaining({ version: 1, kind: 'documents', runId: `upload-${uploadId}`, supersededBy: jobId })]);
    const old = await fetch(`${n2.url}/api/uploads/${uploadId}/results/text.json/versions/1`);
    expect(old.status).toBe(200);
    expect(((await old.json()) as any).segments.length).toBeGreaterThan(0);
    const current = await json(`${n2.url}/api/uploads/${uploadId}/results`);
    expect(current.files.map((f: any) => f.name).sort()).toEqual(['text.json', 'text.txt']);
  }, 120_000);
});
