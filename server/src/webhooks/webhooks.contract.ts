/**
 * The contract every webhook store backend must pass (SQLite in a temp dir, real PostgreSQL): endpoints
 * are owner-scoped; a delivery is recorded once per endpoint and event however often and wherever it is
 * emitted; one attempt at a time holds a delivery; a delivery settled is never claimed again.
 */
import { describe, expect, it } from 'vitest';
import type { OwnerScope } from '../catalogue/types.js';
import type { NewDelivery, WebhookStore } from './types.js';

/** Two stores (two nodes' connection pools) on one fresh, migrated database. */
export interface FreshWebhookStores {
  a: WebhookStore;
  b: WebhookStore;
  close(): Promise<void>;
}

const alice: OwnerScope = { tenant: 't1', owner: 'alice' };
const bob: OwnerScope = { tenant: 't1', owner: 'bob' };
const T0 = new Date('2030-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

function delivery(endpointId: string, eventId: string, extra: Partial<NewDelivery> = {}): NewDelivery {
  return {
    id: `${endpointId}-${eventId}`, endpointId, eventId, eventType: 'upload.finished', payload: JSON.stringify({ id: eventId }),
    at: T0.toISOString(), expiresAt: at(86_400_000).toISOString(), ...extra,
  };
}

export function webhookStoreContract(name: string, fresh: () => Promise<FreshWebhookStores>): void {
  describe(`Webhook store contract: ${name}`, () => {
    it('keeps endpoints per owner: create, list, get, subscribers, disable, remove', async () => {
      const { a, b, close } = await fresh();
      try {
        const e1 = await a.createEndpoint({ scope: alice, url: 'https://a.example/hook', events: ['upload.finished', 'processing.failed'], description: 'one', secret: 's1' }, T0);
        const e2 = await a.createEndpoint({ scope: alice, url: 'https://a.example/two', events: ['processing.done'], description: null, secret: 's2' }, at(1));
        await a.createEndpoint({ scope: bob, url: 'https://b.example/hook', events: ['upload.finished'], description: null, secret: 's3' }, at(2));
        expect((await b.listEndpoints(alice)).map((e) => e.id)).toEqual([e1.id, e2.id]);
        expect(await b.getEndpoint(alice, e1.id)).toMatchObject({ url: 'https://a.example/hook', events: ['upload.finished', 'processing.failed'], description: 'one', disabledAt: null });
        expect(await b.getEndpoint(bob, e1.id)).toBeUndefined();
        expect((await b.signingEndpoint(e1.id))?.secret).toBe('s1');
        expect((await b.subscribers(alice, 'upload.finished')).map((e) => e.id)).toEqual([e1.id]);
        expect((await b.subscribers(alice, 'processing.done')).map((e) => e.id)).toEqual([e2.id]);
        await b.disableEndpoint(e1.id, 'gone', at(5));
        expect(await a.subscribers(alice, 'upload.finished')).toEqual([]);
        expect(await a.getEndpoint(alice, e1.id)).toMatchObject({ disabledAt: at(5).toISOString(), disabledReason: 'gone' });
        expect(await a.removeEndpoint(bob, e2.id)).toBe(false);
        expect(await a.removeEndpoint(alice, e2.id)).toBe(true);
        expect(await b.getEndpoint(alice, e2.id)).toBeUndefined();
      } finally {
        await close();
      }
    });

    it('records a delivery once per endpoint and event, however often and from how many nodes', async () => {
      const { a, b, close } = await fresh();
      try {
        const batch = [delivery('e1', 'ev1'), delivery('e2', 'ev1')];
        const results = await Promise.all([a.enqueue(batch), b.enqueue(batch), a.enqueue(batch), b.enqueue([delivery('e1', 'ev1')])]);
        expect(results.flat().sort()).toEqual(['e1-ev1', 'e2-ev1']);
        expect(await b.enqueue(batch)).toEqual([]);
        expect(await a.depth()).toBe(2);
        expect(await a.due(T0, 10)).toEqual(expect.arrayContaining(['e1-ev1', 'e2-ev1']));
        // Pages by (createdAt, id): deliveries made in the same millisecond are neither skipped nor repeated.
        await a.enqueue(['ev2', 'ev3', 'ev4'].map((e) => delivery('e1', e)));
        const first = await b.deliveries('e1', 2);
        const last = first[first.length - 1]!;
        const second = await b.deliveries('e1', 10, `${last.createdAt}|${last.id}`);
        expect([...first, ...second].map((d) => d.eventId).sort()).toEqual(['ev1', 'ev2', 'ev3', 'ev4']);
      } finally {
        await close();
      }
    });

    it('lets one attempt hold a delivery; settles retry, delivered; never claims it again once delivered', async () => {
      const { a, b, close } = await fresh();
      try {
        await a.enqueue([delivery('e1', 'ev1')]);
        const claims = await Promise.all([a.claim('e1-ev1', at(10), at(5000)), b.claim('e1-ev1', at(10), at(5000))]);
        expect(claims.filter((c) => c.claimed)).toHaveLength(1);
        const held = claims.find((c) => c.claimed)!;
        expect(held.delivery?.attempts).toBe(1);
        expect(await a.due(at(20), 10)).toEqual([]);
        // A retry: due again at its next attempt, not before.
        expect(await b.settle('e1-ev1', { attempt: 1, at: at(10).toISOString(), status: 500, error: null, durationMs: 12 }, { state: 'pending', nextAttemptAt: at(1000).toISOString() })).toBe(true);
        expect((await a.claim('e1-ev1', at(500), at(5000))).claimed).toBe(false);
        expect(await a.due(at(999), 10)).toEqual([]);
        expect(await a.due(at(1000), 10)).toEqual(['e1-ev1']);
        const second = await b.claim('e1-ev1', at(1000), at(6000));
        expect(second).toMatchObject({ claimed: true, delivery: { attempts: 2 } });
        // A stale attempt (the first) cannot settle it any more.
        expect(await a.settle('e1-ev1', { attempt: 1, at: at(1001).toISOString(), status: 200, error: null, durationMs: 1 }, { state: 'delivered' })).toBe(false);
        expect(await a.settle('e1-ev1', { attempt: 2, at: at(1002).toISOString(), status: 204, error: null, durationMs: 3 }, { state: 'delivered' })).toBe(true);
        expect(await b.claim('e1-ev1', at(999_999), at(1_000_000))).toMatchObject({ claimed: false, delivery: { state: 'delivered' } });
        expect(await b.due(at(999_999), 10)).toEqual([]);
        expect(await b.depth()).toBe(0);
        const [listed] = await a.deliveries('e1', 10);
        expect(listed).toMatchObject({ eventId: 'ev1', state: 'delivered', attempts: 2, lastStatus: 204, deliveredAt: at(1002).toISOString(), nextAttemptAt: null });
        expect(listed!.history.map((h) => [h.attempt, h.status])).toEqual([[2, 204], [1, 500]]);
      } finally {
        await close();
      }
    });

    it('takes a delivery over once the claim of a node that died has lapsed', async () => {
      const { a, b, close } = await fresh();
      try {
        await a.enqueue([delivery('e1', 'ev2')]);
        expect((await a.claim('e1-ev2', at(0), at(1000))).claimed).toBe(true);
        expect((await b.claim('e1-ev2', at(999), at(2000))).claimed).toBe(false);
        expect(await b.due(at(1001), 10)).toEqual(['e1-ev2']);
        expect(await b.claim('e1-ev2', at(1001), at(3000))).toMatchObject({ claimed: true, delivery: { attempts: 2 } });
        expect(await b.settle('e1-ev2', { attempt: 2, at: at(1002).toISOString(), status: null, error: 'refused', durationMs: 0 }, { state: 'failed' })).toBe(true);
        expect((await a.deliveries('e1', 10))[0]).toMatchObject({ state: 'failed', lastError: 'refused', lastStatus: null });
      } finally {
        await close();
      }
    });
  });
}
