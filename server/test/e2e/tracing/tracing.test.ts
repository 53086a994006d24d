/**
 * One upload's trace, collected by a local OTLP/HTTP receiver: through the embedded default (server
 * and processors in one process, directory outbox) and through the distributed stack (a node on S3,
 * Redis and JetStream, and a separate processor worker). The span tree is asserted, and that the
 * trace crosses NATS: the worker's job span is a child of the node's PATCH span, and the JetStream
 * message carries the `traceparent` header. Below the request spans: `file write` / `file flush` (with
 * bytes) of the file storage, and one client span per Redis command from the official ioredis
 * instrumentation.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort, REPO_ROOT, spawnServer, tempDir, type SpawnedServer } from '../../harness.js';
import { startOtlpReceiver, startStack, type OtlpReceiver, type ReceivedSpan, type Stack } from '@tus-edge/testkit';
import { create, patch } from '../distributed/client.js';

const byName = (spans: ReceivedSpan[], name: string) => spans.filter((s) => s.name === name);
const childrenOf = (spans: ReceivedSpan[], parent: ReceivedSpan) => spans.filter((s) => s.parentSpanId === parent.spanId && s.traceId === parent.traceId);
/** Every span under `root` in its trace (children, their children, …). */
function descendantsOf(spans: ReceivedSpan[], root: ReceivedSpan): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (let level = [root]; level.length > 0; ) {
    level = level.flatMap((p) => childrenOf(spans, p));
    out.push(...level);
  }
  return out;
}

async function processed(base: string, id: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const info = (await (await fetch(`${base}/api/uploads/${id}`)).json()) as { processing: { state: string } | null };
    if (info.processing?.state === 'done') return;
    if (Date.now() > deadline) throw new Error(`upload ${id} not processed: ${JSON.stringify(info.processing)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** POST, then two PATCHes: the second finishes the upload and carries the trace into the pipeline. */
async function uploadInTwo(base: string, data: Buffer): Promise<string> {
  const p = await create(base, data.length);
  const half = Math.floor(data.length / 2);
  expect((await patch(base, p, 0, data.subarray(0, half))).status).toBe(204);
  expect((await patch(base, p, half, data.subarray(half))).status).toBe(204);
  return p.split('/').pop()!;
}

/** The PATCH that finished upload `id`, and the job span of `kind` that continues its trace. */
function finishingPatch(spans: ReceivedSpan[], id: string, size: number): ReceivedSpan {
  const patches = byName(spans, 'tus PATCH').filter((s) => s.attributes['tus.upload_id'] === id);
  expect(patches).toHaveLength(2);
  const last = patches.find((s) => s.attributes['tus.offset_after'] === size)!;
  expect(last.attributes).toMatchObject({ 'http.request.method': 'PATCH', 'http.response.status_code': 204, 'tus.finished': true });
  expect(Number(last.attributes['tus.bytes'])).toBe(size - Number(last.attributes['tus.offset_before']));
  expect(typeof last.attributes['tus.lock_wait_ms']).toBe('number');
  const children = childrenOf(spans, last).map((s) => s.name);
  expect(children).toEqual(expect.arrayContaining(['lock wait', 'storage write']));
  return last;
}

describe('a trace through the embedded default', () => {
  let receiver: OtlpReceiver | undefined;
  let server: SpawnedServer | undefined;
  afterEach(async () => {
    await server?.terminate();
    await receiver?.close();
    server = receiver = undefined;
  });

  it('POST, PATCH (lock wait, storage write), then dispatch and the job in the same trace; logs carry trace_id', async () => {
    receiver = await startOtlpReceiver();
    // A flush per write (FSYNC_INTERVAL=0), so the request's storage write has its `file flush` child; the
    // default background flush makes the bytes durable off the request's path.
    server = await spawnServer({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, PROCESSOR_KINDS: 'fingerprint', LOG_LEVEL: 'info', FSYNC_INTERVAL: '0' });
    const data = randomBytes(64 * 1024);
    const id = await uploadInTwo(server.url, data);
    await processed(server.url, id);
    const spans = await receiver.waitFor((all) => all.some((s) => s.name === 'job fingerprint' && s.attributes['upload.id'] === id));
    const last = finishingPatch(spans, id, data.length);
    expect(last.service).toBe('tus-edge-server');
    const job = byName(spans, 'job fingerprint').find((s) => s.attributes['upload.id'] === id)!;
    const dispatch = byName(spans, 'dispatch fingerprint').find((s) => s.attributes['upload.id'] === id)!;
    // The job and the dispatch continue the PATCH's trace (the event's traceparent names the PATCH span).
    expect(job.traceId).toBe(last.traceId);
    expect(job.parentSpanId).toBe(last.spanId);
    expect(dispatch.traceId).toBe(last.traceId);
    expect(job.attributes).toMatchObject({ 'job.kind': 'fingerprint', 'job.delivery': 1, 'job.outcome': 'done' });
    expect(byName(spans, 'tus POST')).toHaveLength(1);
    // The file storage's write and flush are children of the request's storage write, with bytes.
    const write = childrenOf(spans, last).find((s) => s.name === 'storage write')!;
    const fileSpans = childrenOf(spans, write);
    const bytes = data.length - Number(last.attributes['tus.offset_before']);
    expect(fileSpans.find((s) => s.name === 'file write')?.attributes).toMatchObject({ 'file.bytes': bytes, 'file.offset': Number(last.attributes['tus.offset_before']) });
    expect(fileSpans.find((s) => s.name === 'file flush')?.attributes).toMatchObject({ 'file.bytes': bytes });
    // The request log line of the finishing PATCH carries its trace id.
    expect(server.output()).toContain(`"trace_id":"${last.traceId}"`);
  });

  it('sampling by configuration: a ratio of 0 keeps no trace (and a client-sampled parent is followed)', async () => {
    receiver = await startOtlpReceiver();
    server = await spawnServer({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0', PROCESSOR_KINDS: 'fingerprint',
    });
    const id = await uploadInTwo(server.url, randomBytes(1024));
    await processed(server.url, id);
    const traceId = randomBytes(16).toString('hex');
    const res = await fetch(`${server.url}/files`, { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '1', traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } });
    expect(res.status).toBe(201);
    const spans = await receiver.waitFor((all) => all.some((s) => s.traceId === traceId));
    expect(spans.every((s) => s.traceId === traceId)).toBe(true);
  });
});

describe('a trace through the distributed stack, across NATS', () => {
  let receiver: OtlpReceiver;
  let stack: Stack | undefined;
  let worker: ChildProcess | undefined;
  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((r) => worker!.once('exit', r));
      worker.kill('SIGTERM');
      await exited;
    }
    await stack?.stop();
    await receiver?.close();
  });

  it('node PATCH → S3 spans; JetStream message with traceparent; worker dispatch and job in the same trace', async () => {
    receiver = await startOtlpReceiver();
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url };
    stack = await startStack({ nodes: 1, timeoutMs: 120_000, env: { ...otel, S3_PART_SIZE: '5MiB', STAGING_MIN_FREE: '64MiB' } });
    const port = await freePort();
    worker = spawn(process.execPath, [path.join(REPO_ROOT, 'processors/dist/main.js')], {
      env: { PATH: process.env.PATH, ...stack.env, ...otel, DATA_DIR: await tempDir(), HOST: '127.0.0.1', PROCESSORS_PORT: String(port), LOG_LEVEL: 'warn', PROCESSOR_KINDS: 'fingerprint' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const deadline = Date.now() + 30_000;
    while ((await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status).catch(() => 0)) !== 200) {
      if (Date.now() > deadline || worker.exitCode !== null) throw new Error('processor worker did not become ready');
      await new Promise((r) => setTimeout(r, 100));
    }
    const node = stack.nodes[0].url;
    const data = randomBytes(256 * 1024);
    const id = await uploadInTwo(node, data);
    await processed(node, id);

    const spans = await receiver.waitFor((all) => all.some((s) => s.name === 'job fingerprint' && s.attributes['upload.id'] === id && s.service === 'tus-edge-processors'));
    const last = finishingPatch(spans, id, data.length);
    expect(last.service).toBe('tus-edge-server');
    // S3 commands are client spans under the storage write.
    const write = childrenOf(spans, last).find((s) => s.name === 'storage write')!;
    expect(childrenOf(spans, write).filter((s) => s.name.startsWith('S3 ')).length).toBeGreaterThan(0);
    // Redis commands are client spans from the ioredis instrumentation: the node's (records, lock) under
    // the PATCH, and the worker's (status, lease) under its job, which is itself a child of the PATCH.
    const isRedis = (s: ReceivedSpan) => s.attributes['db.system.name'] === 'redis' && typeof s.attributes['db.query.text'] === 'string';
    const nodeRedis = descendantsOf(spans, last).filter((s) => isRedis(s) && s.service === 'tus-edge-server');
    expect(nodeRedis.length).toBeGreaterThan(0);
    console.log(`redis spans of the node under the finishing PATCH: ${[...new Set(nodeRedis.map((s) => s.name))].join(', ')}`);
    // Across NATS: the worker's spans are in the node's trace, the job a child of the finishing PATCH.
    const job = byName(spans, 'job fingerprint').find((s) => s.attributes['upload.id'] === id)!;
    const dispatch = byName(spans, 'dispatch fingerprint').find((s) => s.attributes['upload.id'] === id)!;
    expect(job.service).toBe('tus-edge-processors');
    expect(job.traceId).toBe(last.traceId);
    expect(job.parentSpanId).toBe(last.spanId);
    expect(dispatch.traceId).toBe(last.traceId);
    const workerRedis = descendantsOf(spans, job).filter((s) => isRedis(s) && s.service === 'tus-edge-processors');
    expect(workerRedis.length).toBeGreaterThan(0);
    console.log(`redis spans of the worker under its job: ${[...new Set(workerRedis.map((s) => s.name))].join(', ')}`);

    // The JetStream message itself carries the trace context, in its headers and in the event.
    const nc = await connect({ servers: stack.env.NATS_URL });
    try {
      const jsm = await jetstreamManager(nc);
      const msg = await jsm.streams.getMessage('UPLOADS', { last_by_subj: 'uploads.completed' });
      const traceparent = msg!.header?.get('traceparent');
      expect(traceparent).toMatch(new RegExp(`^00-${last.traceId}-${last.spanId}-01$`));
      expect((msg!.json() as { traceparent?: string }).traceparent).toBe(traceparent);
    } finally {
      await nc.close();
    }
  }, 240_000);
});
