/**
 * The runtime's capacity, queue and cost metrics, observed on a real JetStream + Redis run of the
 * default processors (generation against the fake OpenAI, the only fake).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { JetStreamEventPublisher } from '../pipeline/jetstream/publisher.js';
import { ensureStreams } from '../pipeline/jetstream/streams.js';
import { RedisStatusStore } from '../status/redis.js';
import { makeEvent, startFakeOpenAI, startNats, startRedis, tempDir, waitFor, type FakeOpenAI, type NatsHandle, type RedisHandle } from '@tus-edge/testkit';
import { mediaOf } from './execute.js';
import { startRuntime, type Runtime } from './runtime.js';

const value = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('mediaOf', () => {
  it('prefers the sniffed type, else the declared one, else other', () => {
    expect(mediaOf(makeEvent({ metadata: { filetype: 'video/mp4' } }), { mime: 'application/pdf', ext: 'pdf' })).toBe('pdf');
    expect(mediaOf(makeEvent({ metadata: { filename: 'talk.mp3' } }), undefined)).toBe('audio');
    expect(mediaOf(makeEvent(), undefined)).toBe('other');
  });
});

describe('runtime metrics on JetStream', () => {
  let nats: NatsHandle;
  let redis: RedisHandle;
  let openai: FakeOpenAI;
  let runtime: Runtime;
  let dataDir: string;
  const closers: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    [nats, redis, openai] = await Promise.all([startNats(), startRedis(), startFakeOpenAI()]);
    dataDir = await tempDir();
  });
  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    await runtime?.stop();
    await Promise.allSettled([nats?.stop(), redis?.stop(), openai?.close()]);
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('exports worker slots, processing time by kind and media, tokens used, pending / unacked and dead-lettered jobs', async () => {
    const env = {
      NATS_URL: nats.url, REDIS_URL: redis.url, REDIS_PREFIX: 'm:', DATA_DIR: dataDir, HOST: '127.0.0.1', PROCESSORS_PORT: '0',
      LOG_LEVEL: 'silent', PROCESSOR_KINDS: 'fingerprint,documents,generate', PROCESSOR_CONCURRENCY: '2',
      OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: openai.baseURL,
    };
    const config = parseConfig(env);
    runtime = await startRuntime({ config });
    const nc = await connect({ servers: nats.url });
    closers.push(() => nc.close());
    if (config.queue.kind !== 'jetstream') throw new Error('unreachable');
    await ensureStreams(await jetstreamManager(nc), config.queue.streams);
    const status = new RedisStatusStore(redis.url, { prefix: 'm:' });
    closers.push(() => status.close());

    const file = path.join(dataDir, 'notes.txt');
    const text = 'Resumable uploads survive broken connections. '.repeat(40);
    await fs.writeFile(file, text);
    const event = makeEvent({ size: Buffer.byteLength(text), filePath: file, metadata: { filetype: 'text/plain', filename: 'notes.txt' } });
    // And a PDF that is not one: documents fails it for good (dead letter).
    const broken = path.join(dataDir, 'broken.pdf');
    await fs.writeFile(broken, '%PDF-1.4\nnot a PDF at all\n'.repeat(20));
    const bad = makeEvent({ size: (await fs.stat(broken)).size, filePath: broken, metadata: { filetype: 'application/pdf', filename: 'broken.pdf' } });
    const publisher = new JetStreamEventPublisher(jetstream(nc));
    await publisher.publish(event);
    await publisher.publish(bad);
    const settled = (id: string) =>
      waitFor(async () => {
        const s = await status.get(id);
        return s && ['done', 'failed'].includes(s.state) ? s : null;
      }, 30_000, `processing status of ${id}`);
    const done = await settled(event.uploadId);
    expect(done.jobs.generate?.state).toBe('done');
    expect((await settled(bad.uploadId)).jobs.documents?.state).toBe('failed');

    // The pending/unacked gauges are refreshed every 5 s.
    await new Promise((r) => setTimeout(r, 5500));
    const metrics = await (await fetch(`${runtime.url}/metrics`)).text();
    expect(value(metrics, 'processor_workers{kind="fingerprint"}')).toBe(2);
    expect(value(metrics, 'processor_ready')).toBe(1);
    expect(value(metrics, 'processor_processing_seconds_count{kind="documents",media="text"}')).toBe(1);
    expect(value(metrics, 'processor_processing_seconds_count{kind="fingerprint",media="pdf"}')).toBe(1);
    expect(value(metrics, 'processor_processing_seconds_count{kind="generate",media="text"}')).toBe(1);
    const calls = openai.of('chat').length;
    expect(calls).toBeGreaterThan(0);
    // The fake reports 10 prompt and 10 completion tokens per answer.
    expect(value(metrics, 'processor_generation_tokens_total{kind="generate",type="prompt"}')).toBe(10 * calls);
    expect(value(metrics, 'processor_generation_tokens_total{kind="generate",type="completion"}')).toBe(10 * calls);
    expect(value(metrics, 'processor_generation_tokens_total{kind="fingerprint",type="prompt"}')).toBe(0);
    expect(value(metrics, 'processor_jobs_pending{kind="documents",lane="high"}')).toBe(0);
    expect(value(metrics, 'processor_jobs_unacked{kind="documents",lane="high"}')).toBe(0);
    expect(value(metrics, 'processor_jobs_dead_lettered_total{kind="documents"}')).toBe(1);
    expect(value(metrics, 'processor_jobs_dead_lettered_total{kind="fingerprint"}')).toBe(0);
  });
});
