/**
 * Measures "event persisted → job started" on an idle runtime, for both sources, and prints
 * p50 / p95 / p99 / max (the numbers depend on the machine's load; the assertion only catches a
 * regression to polling). The clock starts when the publish resolves (the event is durable: the outbox
 * file fsynced and renamed, or the JetStream PubAck received) and stops when the processor starts.
 */
import fs from 'node:fs/promises';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import type { UploadCompletedEvent } from '../pipeline/event.js';
import { JetStreamEventPublisher } from '../pipeline/jetstream/publisher.js';
import { ensureStreams } from '../pipeline/jetstream/streams.js';
import { makeEvent, percentile, waitFor, writeOutboxEvent } from '@tus-edge/testkit';
import { ScriptedProcessor, wait } from '@tus-edge/testkit';
import { startNats, startRedis, tempDir, type NatsHandle, type RedisHandle } from '@tus-edge/testkit';
import { startRuntime } from './runtime.js';

const SAMPLES = 200;
const IDLE_GAP_MS = 15;

async function measure(publish: (e: UploadCompletedEvent) => Promise<void>, processor: ScriptedProcessor): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < SAMPLES + 10; i++) {
    const event = makeEvent();
    await publish(event);
    const published = performance.timeOrigin + performance.now();
    const run = await waitFor(() => processor.runs.find((r) => r.eventId === event.eventId), 5000, 'job start');
    if (i >= 10) latencies.push(run.startedAt - published); // the first ten warm up
    await wait(IDLE_GAP_MS);
  }
  return latencies;
}

function report(name: string, l: number[]): void {
  const f = (n: number) => `${n.toFixed(1)} ms`;
  console.log(`[latency] ${name}: persisted → started over ${l.length} idle events: p50 ${f(percentile(l, 50))}, p95 ${f(percentile(l, 95))}, p99 ${f(percentile(l, 99))}, max ${f(Math.max(...l))}`);
}

describe('pickup latency (idle)', () => {
  let nats: NatsHandle;
  let redis: RedisHandle;
  let dir: string;
  beforeAll(async () => {
    [nats, redis, dir] = await Promise.all([startNats(), startRedis(), tempDir()]);
  });
  afterAll(async () => {
    await Promise.all([nats?.stop(), redis?.stop(), fs.rm(dir, { recursive: true, force: true })]);
  });

  it('embedded: directory outbox + file status', async () => {
    const processor = new ScriptedProcessor('work', async () => ({ result: {} }));
    const config = parseConfig({ DATA_DIR: `${dir}/embedded`, LOG_LEVEL: 'silent' });
    const runtime = await startRuntime({ config, processors: [processor], http: false });
    try {
      const latencies = await measure((e) => writeOutboxEvent(`${dir}/embedded/events`, e), processor);
      report('embedded (directory + file status)', latencies);
      expect(percentile(latencies, 99)).toBeLessThan(750); // a loose guard against falling back to polling
    } finally {
      await runtime.stop();
    }
  });

  it('distributed: JetStream + Redis status', async () => {
    const processor = new ScriptedProcessor('work', async () => ({ result: {} }));
    const config = parseConfig({ DATA_DIR: `${dir}/distributed`, NATS_URL: nats.url, REDIS_URL: redis.url, LOG_LEVEL: 'silent' });
    const nc = await connect({ servers: nats.url });
    if (config.queue.kind !== 'jetstream') throw new Error('unreachable');
    await ensureStreams(await jetstreamManager(nc), config.queue.streams);
    const publisher = new JetStreamEventPublisher(jetstream(nc));
    const runtime = await startRuntime({ config, processors: [processor], http: false });
    try {
      const latencies = await measure((e) => publisher.publish(e), processor);
      report('distributed (JetStream + Redis)', latencies);
      expect(percentile(latencies, 99)).toBeLessThan(750); // a loose guard against falling back to polling
    } finally {
      await runtime.stop();
      await nc.close();
    }
  });
});
