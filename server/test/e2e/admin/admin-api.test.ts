/**
 * The operator API (issue 15, item 5) on both deployments:
 * - embedded (processors in the server, the directory queue): a corrupt PDF's `documents` job is
 *   dead-lettered; the overview and the list show it with its reason; after the operator fixes the
 *   bytes, one retry (of two at once) runs it again and it ends `done`; a user's token gets 403;
 * - distributed (JetStream on a real nats-server, workers elsewhere): a worker's dead letter is listed
 *   by the server and its retry reaches the worker again; while NATS is down the list answers 503 and
 *   the overview names the problem, and both recover with NATS.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamSource, silentLogger, type DeadLetterRecord, type Job } from '@tus-edge/processors';
import { AUTH_ENV, bearer, makePdf, startNats, TUS, userToken, waitFor, type NatsHandle } from '@tus-edge/testkit';
import { DeadLetterPageSchema, OverviewSchema, RetrySchema } from '../../../src/admin/api.js';
import { startTestServer, type TestServer } from '../../harness.js';

const OPERATOR_TOKEN = 'operator-token-0123456789abcdefghijkl';
const operator = bearer(OPERATOR_TOKEN);

async function upload(server: TestServer, body: Buffer, token: string, name = 'broken.pdf'): Promise<string> {
  const meta = `filename ${Buffer.from(name).toString('base64')},filetype ${Buffer.from('application/pdf').toString('base64')}`;
  const res = await fetch(server.tusUrl, {
    method: 'POST',
    headers: { ...TUS, 'Upload-Length': String(body.length), 'Upload-Metadata': meta, 'Content-Type': 'application/offset+octet-stream', ...bearer(token) },
    body,
  });
  expect(res.status).toBe(201);
  return res.headers.get('location')!.split('/').pop()!;
}

const getJson = async (server: TestServer, p: string, headers: Record<string, string> = operator) => {
  const res = await fetch(`${server.url}${p}`, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('operator API, embedded', () => {
  let server: TestServer;
  let alice = '';
  beforeAll(async () => {
    server = await startTestServer({ ...AUTH_ENV, OPERATOR_TOKEN, RATE_LIMIT_REQUESTS: '0', RATE_LIMIT_CREATIONS: '0' });
    alice = await userToken('alice');
  });
  afterAll(() => server?.close());

  it('answers 403 to a user and 401 without a token, on every operator route', async () => {
    const routes: Array<[string, string]> = [['GET', '/api/admin/overview'], ['GET', '/api/admin/dead-letters'], ['POST', '/api/admin/dead-letters/x~documents/retry']];
    for (const [method, p] of routes) {
      const user = await fetch(`${server.url}${p}`, { method, headers: bearer(alice) });
      expect(user.status, `${method} ${p}`).toBe(403);
      expect(((await user.json()) as { error: { code: string } }).error.code).toBe('OPERATOR_REQUIRED');
      expect((await fetch(`${server.url}${p}`, { method })).status, `${method} ${p}`).toBe(401);
    }
  });

  it('lists a failed job, retries it once after the bytes are fixed, and it ends done', async () => {
    const id = await upload(server, Buffer.from('%PDF-1.4\nnot really a pdf\n%%EOF\n'), alice);
    const page = await waitFor(async () => {
      const { body } = await getJson(server, '/api/admin/dead-letters?limit=5');
      const parsed = DeadLetterPageSchema.parse(body);
      return parsed.deadLetters.find((d) => d.uploadId === id) && parsed;
    }, 30_000, 'the dead letter');
    const dead = page.deadLetters.find((d) => d.uploadId === id)!;
    expect(dead).toMatchObject({ kind: 'documents', code: 'CORRUPT_FILE', attempts: 1, retriedAt: null, jobId: expect.stringMatching(/:documents$/) });
    expect(dead.reason).toMatch(/not a readable PDF/);

    const overview = OverviewSchema.parse((await getJson(server, '/api/admin/overview')).body);
    expect(overview).toMatchObject({ deployment: 'embedded', queue: 'directory', problems: [] });
    expect(overview.recentFailures[0]).toEqual(dead);
    expect(overview.queues).toContainEqual(expect.objectContaining({ kind: 'documents', lane: 'normal' }));
    expect(overview.nodes[0]!.workers.documents).toBeGreaterThan(0);

    // The operator fixes the cause (the stored bytes become a readable PDF), then retries, twice at once.
    const record = JSON.parse(await fsp.readFile(path.join(server.dataDir, 'events', 'dead', `${dead.id}.json`), 'utf8')) as DeadLetterRecord;
    const location = (record.event as { location: { kind: string; path: string } }).location;
    expect(location.kind).toBe('file');
    const pdf = makePdf(['A page the retry reads.']);
    await fsp.writeFile(location.path, pdf);
    const retry = () => fetch(`${server.url}/api/admin/dead-letters/${encodeURIComponent(dead.id)}/retry`, { method: 'POST', headers: operator });
    const answers = await Promise.all([retry(), retry()]);
    const bodies = await Promise.all(answers.map(async (r) => RetrySchema.parse(await r.json())));
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    expect(bodies.map((b) => b.outcome).sort()).toEqual(['already-retried', 'retried']);

    const done = await waitFor(async () => {
      const { body } = await getJson(server, `/api/uploads/${id}`, bearer(alice));
      const job = (body.processing as { jobs?: Record<string, { state: string }> } | undefined)?.jobs?.documents;
      return job && job.state !== 'queued' && job.state !== 'processing' && job;
    }, 30_000, 'the retried job to settle');
    expect(done.state).toBe('done');
    const after = DeadLetterPageSchema.parse((await getJson(server, '/api/admin/dead-letters')).body).deadLetters.find((d) => d.id === dead.id)!;
    expect(after.retriedAt).not.toBeNull();
    expect(RetrySchema.parse(await (await retry()).json()).outcome).toBe('already-retried');
    // The job history has both runs: the failed first attempt and the retried, successful one.
    const documents = await waitFor(async () => {
      const { body } = await getJson(server, '/api/analytics/processing?groupBy=kind');
      const group = (body.groups as Array<{ key: string; done: number; failed: number }>).find((g) => g.key === 'documents');
      return group && group.done >= 1 && group;
    }, 15_000, 'the retried attempt in the job history');
    expect(documents).toMatchObject({ done: 1, failed: 1 });
  });

  it('answers 404 for an unknown dead letter, 400 for a bad page size, and documents every route', async () => {
    const missing = await fetch(`${server.url}/api/admin/dead-letters/nope~documents/retry`, { method: 'POST', headers: operator });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('DEAD_LETTER_NOT_FOUND');
    expect((await getJson(server, '/api/admin/dead-letters?limit=0')).status).toBe(400);
    const doc = (await getJson(server, '/api/openapi.json', {})).body as { paths: Record<string, unknown> };
    for (const p of ['/api/admin/overview', '/api/admin/dead-letters', '/api/admin/dead-letters/{id}/retry']) expect(Object.keys(doc.paths)).toContain(p);
  });
});

describe('operator API, distributed (JetStream)', () => {
  let nats: NatsHandle;
  let server: TestServer;
  let nc: NatsConnection;
  let worker: JetStreamSource;
  beforeAll(async () => {
    nats = await startNats();
    server = await startTestServer({ NATS_URL: nats.url, PROCESSORS_IN_PROCESS: 'false', OPERATOR_TOKEN });
    // A worker of kind `k` elsewhere: its dispatch consumer makes a job of every upload event.
    nc = await connect({ servers: nats.url });
    worker = new JetStreamSource(nc, { ackWaitMs: 5000, maxDeliver: 3, logger: silentLogger, fetchExpiresMs: 1000 });
    await worker.start({ kinds: ['k'], route: async () => 'normal', backoff: () => 100 });
  });
  afterAll(async () => {
    await worker?.stop();
    await nc?.close();
    await server?.close();
    await nats?.stop();
  });

  const nextJob = () => Promise.race([worker.next('k'), new Promise<null>((r) => setTimeout(() => r(null), 20_000).unref())]) as Promise<Job | null>;

  it("lists a worker's dead letter and puts the job back on the worker's queue", async () => {
    const body = Buffer.from('hello');
    const created = await fetch(server.tusUrl, { method: 'POST', headers: { ...TUS, 'Upload-Length': '5', 'Content-Type': 'application/offset+octet-stream' }, body });
    const id = created.headers.get('location')!.split('/').pop()!;
    const job = await nextJob();
    expect(job?.event.uploadId).toBe(id);
    await job!.deadLetter({ code: 'BROKEN', reason: 'BROKEN: the worker gave up (after 3 attempts)' });

    const page = DeadLetterPageSchema.parse((await getJson(server, '/api/admin/dead-letters')).body);
    const dead = page.deadLetters.find((d) => d.uploadId === id)!;
    expect(dead).toMatchObject({ kind: 'k', lane: 'normal', code: 'BROKEN', retriedAt: null, id: expect.stringMatching(/^\d+$/) });
    const overview = OverviewSchema.parse((await getJson(server, '/api/admin/overview')).body);
    expect(overview).toMatchObject({ deployment: 'distributed', queue: 'jetstream', problems: [] });
    // This node runs no worker of k (at most its own maintenance kind): k's work shows in the queue table only.
    expect(overview.nodes.every((n) => !('k' in n.workers))).toBe(true);
    expect(overview.queues).toContainEqual({ kind: 'k', lane: 'normal', waiting: 0, inFlight: 0 });
    expect(overview.recentFailures[0]?.id).toBe(dead.id);

    const retried = await fetch(`${server.url}/api/admin/dead-letters/${dead.id}/retry`, { method: 'POST', headers: operator });
    expect(RetrySchema.parse(await retried.json()).outcome).toBe('retried');
    const again = await nextJob();
    expect(again?.id).toBe(job!.id);
    expect(again?.deliveryCount).toBe(1);
    await again!.ack();
    const status = await server.deps.status.get(id);
    expect(status?.jobs.k?.state).toBe('queued');
  });

  it('while NATS is down: the overview names the problem, the list answers 503; both recover with NATS', async () => {
    await nats.down();
    try {
      const down = await waitFor(async () => {
        const res = await getJson(server, '/api/admin/dead-letters');
        return res.status === 503 && res;
      }, 15_000, 'the list to answer 503');
      expect((down.body.error as { code: string }).code).toBe('QUEUE_UNAVAILABLE');
      const overview = await getJson(server, '/api/admin/overview');
      expect(overview.status).toBe(200);
      expect(OverviewSchema.parse(overview.body).problems.join(' ')).toMatch(/queue depth: .*NATS/);
    } finally {
      await nats.up();
    }
    await waitFor(async () => (await getJson(server, '/api/admin/dead-letters')).status === 200, 20_000, 'the list after NATS is back');
    expect(OverviewSchema.parse((await getJson(server, '/api/admin/overview')).body).problems).toEqual([]);
  });
});
