/**
 * Outside services' transient failures postpone a job without spending an attempt, on both queues:
 * the directory outbox (embedded) and JetStream (`nak(delay)`, with Redis status), with real services.
 * `PROCESSOR_MAX_DELIVER=1` throughout: any delivery counted as an attempt would dead-letter the job.
 * On JetStream also: Redis SIGSTOPped while a job runs → the job is postponed (its status could not be
 * written), the worker takes nothing while the `redis` breaker is open, and it finishes once Redis is back.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig, type RawEnv } from '../config/config.js';
import { ProcessingError } from '../errors.js';
import type { DeadLetterRecord } from '../pipeline/job-source.js';
import { JetStreamEventPublisher } from '../pipeline/jetstream/publisher.js';
import { ensureStreams, jobConsumer, STREAMS } from '../pipeline/jetstream/streams.js';
import { FileStatusStore } from '../status/file.js';
import { RedisStatusStore } from '../status/redis.js';
import type { ProcessingStatus, StatusStore } from '../status/types.js';
import { makeEvent, ScriptedProcessor, startNats, startRedis, tempDir, wait, waitFor, writeOutboxEvent } from '@tus-edge/testkit';
import { startRuntime } from './runtime.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const BASE: RawEnv = {
  HOST: '127.0.0.1', PROCESSORS_PORT: '0', LOG_LEVEL: 'silent', PROCESSOR_ACK_WAIT: '2s', PROCESSOR_MAX_DELIVER: '1',
  PROCESSOR_MAX_POSTPONES: '3', PROCESSOR_BACKOFF_BASE: '200ms', PROCESSOR_BACKOFF_MAX: '400ms', SHUTDOWN_TIMEOUT_MS: '3000',
};

/** Fails `times` times with an outside service's transient error, then succeeds; records each run's time. */
function flaky(times: number) {
  const at: number[] = [];
  const processor = new ScriptedProcessor('work', async () => {
    at.push(Date.now());
    if (at.length <= times) throw new ProcessingError('OPENAI_UNAVAILABLE', 'chat: 503 overloaded');
    return { result: {} };
  });
  return { processor, at };
}

async function settled(status: StatusStore, uploadId: string, ms = 20_000): Promise<ProcessingStatus> {
  return waitFor(async () => {
    const s = await status.get(uploadId);
    return s && ['done', 'failed'].includes(s.jobs.work?.state ?? '') ? s : null;
  }, ms, `job of ${uploadId} settled`);
}

describe('postponed, not spent: the directory queue (embedded)', () => {
  it('three failures of OpenAI are postponed with delays; the one attempt then succeeds; past the bound it dead-letters', async () => {
    const dataDir = await tempDir();
    cleanups.push(() => fs.rm(dataDir, { recursive: true, force: true }));
    const { processor, at } = flaky(3);
    const runtime = await startRuntime({ config: parseConfig({ ...BASE, DATA_DIR: dataDir }), processors: [processor], http: false });
    cleanups.push(() => runtime.stop());
    const status = new FileStatusStore(path.join(dataDir, 'processing'));
    const event = makeEvent();
    await writeOutboxEvent(path.join(dataDir, 'events'), event);
    const s = await settled(status, event.uploadId);
    expect(s.jobs.work).toMatchObject({ state: 'done', attempts: 1, postponed: 3 });
    // Each postponement waited (the backoff, 200–400 ms ± 20 %) before the next delivery.
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    expect(gaps.every((g) => g >= 150)).toBe(true);

    // A service that stays down: after the bound (3 postponements) the failure counts and the job is dead-lettered.
    const down = makeEvent();
    processor.runs.length = 0;
    at.length = 0;
    const always = flaky(1000);
    await runtime.stop();
    const again = await startRuntime({ config: parseConfig({ ...BASE, DATA_DIR: dataDir }), processors: [always.processor], http: false });
    cleanups.push(() => again.stop());
    await writeOutboxEvent(path.join(dataDir, 'events'), down);
    const failed = await settled(status, down.uploadId);
    expect(failed.jobs.work).toMatchObject({ state: 'failed', attempts: 1, postponed: 3, code: 'OPENAI_UNAVAILABLE' });
    expect(always.at).toHaveLength(4);
    // The status is written before the dead-letter record.
    const deadFile = path.join(dataDir, 'events', 'dead', `${down.eventId}~work.json`);
    const dead = await waitFor(async () => JSON.parse(await fs.readFile(deadFile, 'utf8').catch(() => 'null')) as DeadLetterRecord | null, 5000, 'dead-letter record');
    expect(dead.code).toBe('OPENAI_UNAVAILABLE');
  });
});

describe('postponed, not spent: JetStream (nak with delay) and Redis status', () => {
  it('failures are postponed with nak(delay); the runtime, not max_deliver, counts attempts; the job finishes on its one attempt', async () => {
    const [nats, redis] = await Promise.all([startNats(), startRedis()]);
    cleanups.push(() => nats.stop(), () => redis.stop());
    const env: RawEnv = { ...BASE, NATS_URL: nats.url, REDIS_URL: redis.url, DATA_DIR: await tempDir() };
    const config = parseConfig(env);
    const nc = await connect({ servers: nats.url });
    cleanups.push(() => nc.close());
    const jsm = await jetstreamManager(nc);
    if (config.queue.kind !== 'jetstream') throw new Error('unreachable');
    await ensureStreams(jsm, config.queue.streams);
    const { processor, at } = flaky(3);
    const runtime = await startRuntime({ config, processors: [processor], http: false });
    cleanups.push(() => runtime.stop());
    // Postponed deliveries are deliveries: the consumer has no limit and the runtime counts attempts.
    expect((await jsm.consumers.info(STREAMS.jobs.name, jobConsumer('work', 'normal'))).config.max_deliver).toBe(-1);
    const status = new RedisStatusStore(redis.url);
    cleanups.push(() => status.close());
    const event = makeEvent();
    await new JetStreamEventPublisher(jetstream(nc)).publish(event);
    const s = await settled(status, event.uploadId);
    expect(s.jobs.work).toMatchObject({ state: 'done', attempts: 1, postponed: 3 });
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    expect(gaps.every((g) => g >= 150)).toBe(true);
  });

  it('Redis SIGSTOPped while a job runs: the job is postponed, the worker waits for the redis breaker, then finishes', async () => {
    const [nats, redis] = await Promise.all([startNats(), startRedis()]);
    cleanups.push(() => nats.stop(), async () => {
      try {
        process.kill(redis.pid, 'SIGCONT');
      } catch {
        /* gone */
      }
      await redis.stop();
    });
    const env: RawEnv = {
      ...BASE, NATS_URL: nats.url, REDIS_URL: redis.url, DATA_DIR: await tempDir(),
      REDIS_COMMAND_TIMEOUT: '300ms', CIRCUIT_FAILURES: '2', CIRCUIT_WINDOW: '30s', CIRCUIT_OPEN_FOR: '1s',
      LOG_LEVEL: process.env.POSTPONE_TEST_LOG ?? 'silent',
    };
    const config = parseConfig(env);
    const nc = await connect({ servers: nats.url });
    cleanups.push(() => nc.close());
    if (config.queue.kind !== 'jetstream') throw new Error('unreachable');
    await ensureStreams(await jetstreamManager(nc), config.queue.streams);
    let runs = 0;
    let paused = 0;
    const processor = new ScriptedProcessor('work', async () => {
      if (runs++ === 0) {
        // The first run: Redis stops answering while the job works; writing its result will fail.
        process.kill(redis.pid, 'SIGSTOP');
        paused = Date.now();
        await wait(200);
      }
      return { result: { run: runs } };
    });
    const runtime = await startRuntime({ config, processors: [processor], http: true });
    cleanups.push(() => runtime.stop());
    const event = makeEvent();
    await new JetStreamEventPublisher(jetstream(nc)).publish(event);
    // While Redis is stopped the breaker opens and the metrics say so.
    const metrics = () => fetch(`${runtime.url}/metrics`).then((r) => r.text());
    await waitFor(async () => (/processor_circuit_state\{service="redis"\} 2/.test(await metrics()) ? true : null), 15_000, 'redis breaker open');
    expect(((await (await fetch(`${runtime.url}/readyz`)).json()) as { circuits: Record<string, string> }).circuits.redis).toBe('open');
    const heldFor = 3000;
    await wait(Math.max(0, paused + heldFor - Date.now()));
    expect(runs).toBe(1); // nothing taken while the breaker is open
    process.kill(redis.pid, 'SIGCONT');
    const status = new RedisStatusStore(redis.url);
    cleanups.push(() => status.close());
    const s = await settled(status, event.uploadId, 30_000);
    expect(s.jobs.work).toMatchObject({ state: 'done', attempts: 1 });
    expect(runs).toBe(2);
    expect(await metrics()).toMatch(/processor_circuit_state\{service="redis"\} 0/);
  });
});
