import type { EventPublisher, UploadCompletedEvent } from '@tus-edge/processors';
import { MemoryKvStore, MemoryPublisher } from '@tus-edge/testkit';
import { eventPublisherContract } from '@tus-edge/testkit/contracts';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../ops/logger.js';
import { OutboxPublisher } from './outbox-publisher.js';

const event = (id: string): UploadCompletedEvent => ({
  version: 1, type: 'uploads.completed', eventId: `upload-${id}`, uploadId: id, size: 1, metadata: {},
  location: { kind: 'file', path: `/x/${id}` }, completedAt: '2026-01-01T00:00:00.000Z', node: 'n1',
});
const logger = createLogger('silent');

eventPublisherContract('OutboxPublisher (durable outbox in front of a broker)', async () => {
  const broker = new MemoryPublisher();
  const publisher = new OutboxPublisher({ target: broker, outbox: new MemoryKvStore<UploadCompletedEvent>(), logger });
  return { publisher, stored: async () => [...broker.events.values()], cleanup: async () => publisher.stop() };
});

/** A broker that can be switched off. */
class FlakyBroker implements EventPublisher {
  up = false;
  readonly delivered = new MemoryPublisher();
  async publish(e: UploadCompletedEvent): Promise<void> {
    if (!this.up) throw new Error('broker down');
    await this.delivered.publish(e);
  }
}

describe('OutboxPublisher', () => {
  it('resolves once the event is in the outbox even while the broker is down, and delivers it when the broker returns', async () => {
    const outbox = new MemoryKvStore<UploadCompletedEvent>();
    const broker = new FlakyBroker();
    const publisher = new OutboxPublisher({ target: broker, outbox, logger, retryMs: 20, sweepMs: 1_000_000 });
    await publisher.publish(event('a'));
    await publisher.publish(event('b'));
    expect((await outbox.list()).sort()).toEqual(['upload-a', 'upload-b']);
    broker.up = true;
    for (let i = 0; i < 100 && (await outbox.list()).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect([...broker.delivered.events.keys()].sort()).toEqual(['upload-a', 'upload-b']);
    expect(await outbox.list()).toEqual([]);
    publisher.stop();
  });

  it("delivers what another node left in a shared outbox (the node died before the broker acknowledged)", async () => {
    const outbox = new MemoryKvStore<UploadCompletedEvent>();
    await outbox.set('upload-orphan', event('orphan'));
    const broker = new FlakyBroker();
    broker.up = true;
    const survivor = new OutboxPublisher({ target: broker, outbox, logger, sweepMs: 30 });
    survivor.start();
    for (let i = 0; i < 100 && !broker.delivered.events.has('upload-orphan'); i++) await new Promise((r) => setTimeout(r, 10));
    survivor.stop();
    expect(broker.delivered.events.has('upload-orphan')).toBe(true);
    expect(await outbox.list()).toEqual([]);
  });

  it('counts a broker that never answers as down, after the attempt timeout', async () => {
    const outbox = new MemoryKvStore<UploadCompletedEvent>();
    const hanging: EventPublisher = { publish: () => new Promise(() => undefined) };
    const publisher = new OutboxPublisher({ target: hanging, outbox, logger, attemptTimeoutMs: 30, retryMs: 1_000_000 });
    const started = Date.now();
    await publisher.publish(event('slow'));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await outbox.list()).toEqual(['upload-slow']);
    publisher.stop();
  });
});
