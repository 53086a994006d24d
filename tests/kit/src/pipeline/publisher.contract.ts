import type { EventPublisher, UploadCompletedEvent } from '@tus-edge/processors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeEvent } from '../processors/fixtures.js';

/** What an {@link EventPublisher} implementation provides to the shared contract. */
export interface PublisherHarness {
  publisher: EventPublisher;
  /**
   * The events the durable side holds now, read independently of `publisher` (the outbox directory
   * read afresh, the JetStream stream, the broker behind an outbox), in any order.
   */
  stored(): Promise<UploadCompletedEvent[]>;
  cleanup(): Promise<void>;
}

const byId = (events: UploadCompletedEvent[]) => [...events].sort((a, b) => a.eventId.localeCompare(b.eventId));

/**
 * The contract every {@link EventPublisher} passes: `publish` resolves once the event is stored, the
 * stored event is the published one, and publishing the same event again stores it once.
 */
export function eventPublisherContract(name: string, makeHarness: () => Promise<PublisherHarness>): void {
  describe(`EventPublisher contract: ${name}`, () => {
    let h: PublisherHarness;
    beforeEach(async () => {
      h = await makeHarness();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('stores the event, unchanged, before publish resolves', async () => {
      const event = makeEvent({ metadata: { filename: 'a.txt', empty: null }, size: 42 });
      await h.publisher.publish(event);
      expect(await h.stored()).toEqual([event]);
    });

    it('stores a duplicate publish of the same event once (keyed by eventId)', async () => {
      const event = makeEvent();
      await h.publisher.publish(event);
      await h.publisher.publish(event);
      await h.publisher.publish({ ...event });
      expect(await h.stored()).toEqual([event]);
    });

    it('stores every distinct event, also when published concurrently', async () => {
      const events = Array.from({ length: 20 }, (_, i) => makeEvent({ id: `c${i}-${Date.now().toString(36)}` }));
      await Promise.all(events.map((e) => h.publisher.publish(e)));
      expect(byId(await h.stored())).toEqual(byId(events));
    });
  });
}
