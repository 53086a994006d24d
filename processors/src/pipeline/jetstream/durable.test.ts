import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNats, type NatsHandle } from '@tus-edge/testkit';
import { DurableConsumer, ensureWorkQueueStream, publishOnce } from './durable.js';

let nats: NatsHandle;
const connections: NatsConnection[] = [];
beforeAll(async () => {
  nats = await startNats();
});
afterAll(async () => {
  for (const nc of connections) await nc.close().catch(() => undefined);
  await nats?.stop();
});

async function conn(): Promise<NatsConnection> {
  const nc = await connect({ servers: nats.url });
  connections.push(nc);
  return nc;
}

const waitUntil = async (check: () => boolean, ms = 20_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('DurableConsumer on a work-queue stream (real nats-server)', () => {
  it('shares one durable consumer between processes, stores a msgID once, retries after the delay, and stops cleanly', async () => {
    const [a, b, publisher] = await Promise.all([conn(), conn(), conn()]);
    await Promise.all([ensureWorkQueueStream(a, 'WQTEST', ['wq.test'], 60_000), ensureWorkQueueStream(b, 'WQTEST', ['wq.test'], 60_000)]);
    const handled = new Map<string, { tries: number; by: Set<string>; firstAt: number; doneAt?: number }>();
    const handler = (name: string) => async (m: { data: string; deliveryCount: number }) => {
      const entry = handled.get(m.data) ?? { tries: 0, by: new Set<string>(), firstAt: Date.now() };
      entry.tries++;
      entry.by.add(name);
      handled.set(m.data, entry);
      if (entry.tries === 1) return { retryInMs: 300 };
      entry.doneAt = Date.now();
      return { done: true as const };
    };
    const options = { stream: 'WQTEST', consumer: 'wq-test', filterSubject: 'wq.test', ackWaitMs: 5000, concurrency: 2 };
    const one = new DurableConsumer(a, options);
    const two = new DurableConsumer(b, options);
    await Promise.all([one.start(handler('a')), two.start(handler('b'))]);
    for (let i = 0; i < 10; i++) {
      await publishOnce(publisher, 'wq.test', `m${i}`, `id-${i}`);
      await publishOnce(publisher, 'wq.test', `m${i}`, `id-${i}`); // the same msgID: stored once
    }
    await waitUntil(() => handled.size === 10 && [...handled.values()].every((e) => e.doneAt));
    await new Promise((r) => setTimeout(r, 500));
    for (const [id, e] of handled) {
      expect(e.tries, id).toBe(2);
      expect(e.doneAt! - e.firstAt, id).toBeGreaterThanOrEqual(250);
    }
    expect(await one.pending()).toBe(0);
    await Promise.all([one.stop(), two.stop()]);
    // Stopped: a message published now waits in the stream for the next consumer.
    await publishOnce(publisher, 'wq.test', 'late', 'id-late');
    await new Promise((r) => setTimeout(r, 300));
    expect(handled.has('late')).toBe(false);
    expect(await new DurableConsumer(a, options).pending()).toBe(1);
  });
});
