/**
 * The runtime in distributed mode against a real nats-server (JetStream, fresh per test) and a real
 * redis-server (shared, one key prefix per test).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type ProcessorsConfig } from '../config/config.js';
import type { RawEnv } from '../config/config.js';
import { ProcessingError } from '../errors.js';
import type { UploadCompletedEvent } from '../pipeline/event.js';
import type { DeadLetterRecord, JobSource } from '../pipeline/job-source.js';
import { createLogger } from '../logger.js';
import { JetStreamEventPublisher } from '../pipeline/jetstream/publisher.js';
import { ensureStreams, STREAMS, SUBJECTS } from '../pipeline/jetstream/streams.js';
import type { MediaOutcome } from '../outcomes.js';
import { RedisStatusStore } from '../status/redis.js';
import type { ProcessingStatus } from '../status/types.js';
import { JetStreamSource } from '../pipeline/jetstream/source.js';
import { spawnChildWorker, type ChildWorker } from '@tus-edge/testkit';
import { makeEvent, waitFor } from '@tus-edge/testkit';
import { readRunLog, ScriptedProcessor, wait } from '@tus-edge/testkit';
import { startNats, startRedis, tempDir, type NatsHandle, type RedisHandle } from '@tus-edge/testkit';
import { startRuntime, type Runtime } from './runtime.js';

let redis: RedisHandle;
let testNo = 0;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

interface Env {
  nats: NatsHandle;
  env: RawEnv;
  config: ProcessorsConfig;
  nc: NatsConnection;
  jsm: JetStreamManager;
  publish(event: UploadCompletedEvent): Promise<void>;
  status: RedisStatusStore;
  dataDir: string;
  start(processor: ScriptedProcessor | undefined, overrides?: RawEnv, http?: boolean): Promise<Runtime>;
  waitStatus(uploadId: string, predicate: (s: ProcessingStatus) => boolean, timeoutMs?: number): Promise<ProcessingStatus>;
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function setup(extra: RawEnv = {}): Promise<Env> {
  const nats = await startNats();
  cleanups.push(() => nats.stop());
  const dataDir = await tempDir();
  cleanups.push(() => fs.rm(dataDir, { recursive: true, force: true }));
  const env: RawEnv = {
    NATS_URL: nats.url,
    REDIS_URL: redis.url,
    REDIS_PREFIX: `js${testNo++}:`,
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PROCESSORS_PORT: '0',
    LOG_LEVEL: 'silent',
    PROCESSOR_ACK_WAIT: '1s',
    PROCESSOR_MAX_DELIVER: '3',
    PROCESSOR_BACKOFF_BASE: '50ms',
    PROCESSOR_BACKOFF_MAX: '400ms',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...extra,
  };
  const config = parseConfig(env);
  const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  cleanups.push(() => nc.close());
  const jsm = await jetstreamManager(nc);
  if (config.queue.kind !== 'jetstream') throw new Error('unreachable');
  await ensureStreams(jsm, config.queue.streams);
  const publisher = new JetStreamEventPublisher(jetstream(nc));
  const status = new RedisStatusStore(redis.url, { prefix: env.REDIS_PREFIX });
  cleanups.push(() => status.close());
  return {
    nats,
    env,
    config,
    nc,
    jsm,
    dataDir,
    publish: (e) => publisher.publish(e),
    status,
    start: async (processor, overrides = {}, http = false) => {
      const runtime = await startRuntime({ config: parseConfig({ ...env, ...overrides }), processors: processor ? [processor] : undefined, http });
      cleanups.push(() => runtime.stop());
      return runtime;
    },
    waitStatus: (uploadId, predicate, timeoutMs = 15_000) =>
      waitFor(async () => {
        const s = await status.get(uploadId);
        return s && predicate(s) ? s : null;
      }, timeoutMs, `status of ${uploadId}`),
  };
}

async function readStream<T>(jsm: JetStreamManager, stream: string): Promise<Array<{ subject: string; data: T }>> {
  const info = await jsm.streams.info(stream);
  const out: Array<{ subject: string; data: T }> = [];
  if (info.state.messages === 0) return out;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (m) out.push({ subject: m.subject, data: m.json<T>() });
  }
  return out;
}

const quick = (ms = 0) => async (_e: UploadCompletedEvent, ctx: { signal: AbortSignal }) => {
  if (ms) await wait(ms, ctx.signal);
  return { result: {} };
};

describe('processor runtime on JetStream + Redis', () => {
  it('fingerprints a stored file: status in Redis, media.processed on MEDIA, health and metrics', async () => {
    const t = await setup();
    const data = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(100_000, 1)]);
    const file = path.join(t.dataDir, 'image.bin');
    await fs.writeFile(file, data);
    const event = makeEvent({ size: data.length, filePath: file, metadata: { filetype: 'image/png' } });
    const states: string[] = [];
    await t.status.subscribe(event.uploadId, (s) => states.push(s.jobs.fingerprint?.state));
    const runtime = await t.start(undefined, { PROCESSOR_KINDS: 'fingerprint' }, true);
    expect(runtime.mode).toBe('distributed');
    await t.publish(event);
    const s = await t.waitStatus(event.uploadId, (x) => x.state === 'done');
    expect(s.jobs.fingerprint).toMatchObject({
      state: 'done',
      lane: 'high',
      attempts: 1,
      outputLocation: null,
      result: { sha256: createHash('sha256').update(data).digest('hex'), mime: 'image/png', ext: 'png', declaredTypeMatches: true },
    });
    await waitFor(() => states.includes('done'));
    expect(states).toEqual(['queued', 'processing', 'done']);
    const media = await waitFor(async () => {
      const m = await readStream<MediaOutcome>(t.jsm, STREAMS.media.name);
      return m.length > 0 && m;
    });
    expect(media).toHaveLength(1);
    expect(media[0].subject).toBe(SUBJECTS.mediaProcessed);
    expect(media[0].data).toMatchObject({
      event: 'media.processed',
      id: `${event.eventId}:fingerprint`,
      data: { mediaId: event.uploadId, processingType: 'fingerprint', status: 'done', outputLocation: null, metrics: { outputSizeBytes: 0 } },
    });
    expect(typeof media[0].data.data.metrics.processingTimeMs).toBe('number');
    expect((await fetch(`${runtime.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${runtime.url}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${runtime.url}/metrics`)).text();
    expect(metrics).toContain('processor_jobs_total{kind="fingerprint",outcome="done"} 1');
    expect(metrics).toMatch(/processor_job_pickup_seconds_count\{lane="high"\} 1/);
    expect(metrics).toContain('processor_jobs_in_flight{kind="fingerprint"} 0');
    expect(metrics).toContain('processor_jobs_pending');
    await runtime.stop();
  });

  it('duplicate publishes make one effect (msgID dedup, and the status guard after the window)', async () => {
    const t = await setup({ NATS_DUPLICATE_WINDOW: '300ms' });
    const p = new ScriptedProcessor('count', quick());
    const runtime = await t.start(p);
    const event = makeEvent();
    await Promise.all([t.publish(event), t.publish(event), t.publish(event)]);
    await t.waitStatus(event.uploadId, (s) => s.state === 'done');
    await wait(400); // past the duplicate window: JetStream stores the next publish again
    await t.publish(event);
    await waitFor(async () => (await t.jsm.consumers.info(STREAMS.jobs.name, 'processor-count-high')).num_ack_pending === 0 &&
      (await t.jsm.streams.info(STREAMS.uploads.name)).state.messages === 2, 5000, 'second copy handled');
    await waitFor(async () => (await runtime.registry.metrics()).includes('processor_jobs_total{kind="count",outcome="duplicate"} 1'), 5000, 'guard hit');
    expect(p.effects).toHaveLength(1);
    const media = await readStream<MediaOutcome>(t.jsm, STREAMS.media.name);
    expect(media.filter((m) => m.data.id === `${event.eventId}:count`).length).toBeGreaterThanOrEqual(1);
  });

  it('NATS stopped while events are pending: all delivered after it returns, none lost, none doubled', async () => {
    const t = await setup();
    const p = new ScriptedProcessor('work', quick(100));
    await t.start(p, { PROCESSOR_CONCURRENCY: '2' });
    const events = Array.from({ length: 20 }, () => makeEvent());
    for (const e of events) await t.publish(e);
    await waitFor(() => p.effects.length >= 4, 10_000, 'first effects');
    await t.nats.down();
    const effectsWhileDown = p.effects.length;
    await wait(1500);
    expect(p.effects.length).toBeLessThanOrEqual(effectsWhileDown + 2); // only jobs already in hand finish
    await t.nats.up();
    for (const e of events) await t.waitStatus(e.uploadId, (s) => s.state === 'done', 30_000);
    await wait(1500); // anything doubled would show up within an ack wait
    const counts = p.effectCounts();
    expect(counts.size).toBe(20);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    const processed = await waitFor(async () => {
      const ids = new Set((await readStream<MediaOutcome>(t.jsm, STREAMS.media.name)).map((m) => m.data.id));
      return ids.size === 20 && ids;
    }, 15_000, '20 outcomes');
    expect(processed.size).toBe(20);
  });

  it('a worker killed mid-job: the job is redelivered and finished by another worker', async () => {
    const t = await setup();
    const log = path.join(t.dataDir, 'child-runs.log');
    let child: ChildWorker | null = await spawnChildWorker({ ...(t.env as Record<string, string>), CHILD_KIND: 'work', CHILD_LOG: log, CHILD_JOB_MS: '60000' });
    cleanups.push(() => child?.kill() ?? Promise.resolve());
    const event = makeEvent();
    await t.publish(event);
    await waitFor(() => readRunLog(log).some((r) => r.type === 'run' && r.eventId === event.eventId), 10_000, 'child started the job');
    await child.kill();
    child = null;
    const p = new ScriptedProcessor('work', quick(), 'survivor');
    await t.start(p);
    const s = await t.waitStatus(event.uploadId, (x) => x.state === 'done', 15_000);
    expect(s.jobs.work).toMatchObject({ state: 'done', attempts: 2, result: { worker: 'survivor' } });
    expect(readRunLog(log).filter((r) => r.type === 'effect')).toHaveLength(0);
    expect(p.effects).toHaveLength(1);
  });

  it('a worker whose heartbeats stop reaching NATS while its job runs: the redelivery waits (lease), one effect', async () => {
    const t = await setup();
    // Worker A's link to NATS drops its heartbeats: JetStream redelivers the job after the 1 s ack wait
    // although A is still running it. A's lease in Redis is renewed all along.
    const inner = new JetStreamSource(t.nc, { ackWaitMs: t.config.ackWaitMs, maxDeliver: t.config.maxDeliver, logger: createLogger('silent') });
    const deaf: JobSource = {
      name: inner.name,
      start: (o) => inner.start(o),
      next: async (kind) => {
        const job = await inner.next(kind);
        return job && { ...job, working: async () => undefined };
      },
      pending: () => inner.pending(),
      dispatchingKinds: () => inner.dispatchingKinds(),
      ready: () => inner.ready(),
      stop: () => inner.stop(),
    };
    const a = new ScriptedProcessor('work', quick(2500), 'a');
    const runtimeA = await startRuntime({ config: t.config, processors: [a], http: false, source: deaf });
    cleanups.push(() => runtimeA.stop());
    const event = makeEvent();
    await t.publish(event);
    await waitFor(() => a.runs.length === 1, 5000, 'worker a started the job');
    const b = new ScriptedProcessor('work', quick(), 'b');
    await t.start(b);
    const s = await t.waitStatus(event.uploadId, (x) => x.state === 'done', 15_000);
    expect(s.jobs.work.result).toEqual({ worker: 'a' });
    await wait(2500); // a doubled run would show up here
    expect(a.runs).toHaveLength(1);
    expect(b.runs).toHaveLength(0);
    expect(a.effects).toHaveLength(1);
  });

  it('a poison job is dead-lettered after max_deliver with the reason', async () => {
    const t = await setup();
    const p = new ScriptedProcessor('work', async () => {
      throw new Error('decoder crashed');
    });
    await t.start(p);
    const event = makeEvent();
    await t.publish(event);
    const s = await t.waitStatus(event.uploadId, (x) => x.state === 'failed');
    expect(s.jobs.work).toMatchObject({ state: 'failed', attempts: 3, code: 'INTERNAL', reason: 'INTERNAL: decoder crashed' });
    expect(s.reason).toBe('work: INTERNAL: decoder crashed');
    expect(p.runs.map((r) => r.attempt)).toEqual([1, 2, 3]);
    const dead = await waitFor(async () => {
      const d = await readStream<DeadLetterRecord>(t.jsm, STREAMS.deadLetter.name);
      return d.length > 0 && d;
    });
    expect(dead[0].subject).toBe(SUBJECTS.deadLetter('work'));
    expect(dead[0].data).toMatchObject({ jobId: `${event.eventId}:work`, kind: 'work', attempts: 3, code: 'INTERNAL', reason: 'INTERNAL: decoder crashed (after 3 attempts)', event });
    const failed = (await readStream<MediaOutcome>(t.jsm, STREAMS.media.name)).filter((m) => m.subject === SUBJECTS.mediaFailed);
    expect(failed).toHaveLength(1);
    expect(failed[0].data.data).toMatchObject({ status: 'failed', reason: 'INTERNAL: decoder crashed' });
    await wait(1500);
    expect(p.runs).toHaveLength(3);
  });

  it('a permanent error fails at once (term, no retries)', async () => {
    const t = await setup();
    const p = new ScriptedProcessor('work', async () => {
      throw new ProcessingError('OBJECT_NOT_FOUND', 'gone');
    });
    await t.start(p);
    const event = makeEvent();
    await t.publish(event);
    const s = await t.waitStatus(event.uploadId, (x) => x.state === 'failed');
    expect(s.jobs.work).toMatchObject({ attempts: 1, code: 'OBJECT_NOT_FOUND' });
    await wait(1200);
    expect(p.runs).toHaveLength(1);
  });

  it('serves the high-priority lane first', async () => {
    const t = await setup();
    const normal = Array.from({ length: 5 }, (_, i) => makeEvent({ metadata: { priority: 'normal', n: String(i) } }));
    const high = makeEvent({ metadata: { priority: 'high' } });
    for (const e of normal) await t.publish(e);
    await t.publish(high);
    const p = new ScriptedProcessor('work', quick(80));
    await t.start(p, { PROCESSOR_CONCURRENCY: '1' });
    await waitFor(() => p.effects.length === 6, 15_000, 'all six jobs');
    const order = p.runs.map((r) => r.eventId);
    // The first normal job may start before the high one is dispatched; the high one is never later than second.
    expect(order.indexOf(high.eventId)).toBeLessThanOrEqual(1);
    expect((await t.status.get(high.uploadId))!.jobs.work.lane).toBe('high');
  });

  it('two workers share the work; each job runs once', async () => {
    const t = await setup();
    const a = new ScriptedProcessor('work', quick(40), 'a');
    const b = new ScriptedProcessor('work', quick(40), 'b');
    await t.start(a, { PROCESSOR_CONCURRENCY: '1' });
    await t.start(b, { PROCESSOR_CONCURRENCY: '1' });
    const events = Array.from({ length: 24 }, () => makeEvent());
    for (const e of events) await t.publish(e);
    await waitFor(() => a.effects.length + b.effects.length === 24, 15_000, '24 effects');
    await wait(300);
    const all = [...a.effects, ...b.effects].map((r) => r.eventId);
    expect(new Set(all).size).toBe(24);
    expect(all).toHaveLength(24);
    expect(a.effects.length).toBeGreaterThanOrEqual(6);
    expect(b.effects.length).toBeGreaterThanOrEqual(6);
  });

  it('workers running different processor kinds each get every event', async () => {
    const t = await setup();
    const thumbs = new ScriptedProcessor('thumbnail', quick(), 'thumbs');
    const texts = new ScriptedProcessor('transcript', quick(), 'texts');
    await t.start(thumbs);
    await t.start(texts);
    const event = makeEvent();
    await t.publish(event);
    const s = await t.waitStatus(event.uploadId, (x) => Object.keys(x.jobs).length === 2 && x.state === 'done');
    expect(s.jobs.thumbnail.result).toMatchObject({ worker: 'thumbs' });
    expect(s.jobs.transcript.result).toMatchObject({ worker: 'texts' });
  });

  it("the aggregate does not look final while another worker's kind has not been dispatched yet", async () => {
    const t = await setup();
    // The transcript workers are deployed (their durable consumer exists) but down when the event comes.
    const texts = await t.start(new ScriptedProcessor('transcript', quick(), 'texts'));
    await texts.stop();
    const thumbs = new ScriptedProcessor('thumbnail', quick(), 'thumbs');
    await t.start(thumbs);
    const event = makeEvent();
    await t.publish(event);
    await waitFor(() => thumbs.effects.length === 1, 10_000, 'thumbnail done');
    const early = await t.waitStatus(event.uploadId, (x) => x.jobs.thumbnail?.state === 'done');
    expect(early.state).toBe('queued');
    expect(early.jobs.transcript).toMatchObject({ state: 'queued', attempts: 0 });
    await t.start(new ScriptedProcessor('transcript', quick(), 'texts again'));
    const s = await t.waitStatus(event.uploadId, (x) => x.state === 'done');
    expect(s.jobs.transcript.result).toMatchObject({ worker: 'texts again' });
  });

  it('drains on stop: the running job finishes and is acknowledged, readiness turns 503', async () => {
    const t = await setup();
    const p = new ScriptedProcessor('work', quick(600));
    const runtime = await t.start(p, {}, true);
    const event = makeEvent();
    await t.publish(event);
    await waitFor(() => p.runs.length === 1);
    const stopping = runtime.stop();
    expect((await fetch(`${runtime.url}/readyz`)).status).toBe(503);
    await stopping;
    expect(p.effects).toHaveLength(1);
    expect((await t.status.get(event.uploadId))!.state).toBe('done');
    const info = await t.jsm.consumers.info(STREAMS.jobs.name, 'processor-work-high');
    expect(info.num_ack_pending + info.num_pending).toBe(0);
  });
});
