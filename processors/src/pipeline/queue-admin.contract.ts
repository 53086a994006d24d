import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, waitFor } from '@tus-edge/testkit';
import type { UploadCompletedEvent } from './event.js';
import type { Job, JobSource, Lane } from './job-source.js';
import type { QueueAdmin } from './queue-admin.js';
import { retryDeadLetter } from '../runtime/dead-letters.js';
import { MemoryStatusStore } from '../status/memory.js';

/** What a queue implementation provides to the shared {@link QueueAdmin} contract. */
export interface QueueAdminHarness {
  admin: QueueAdmin;
  /** A started job source of the same queue, running kind `k` (high lane when metadata says so). */
  source: JobSource;
  /** Publishes an upload event the way the server does. */
  publish(event: UploadCompletedEvent): Promise<void>;
  cleanup(): Promise<void>;
}

export const ADMIN_KIND = 'k';
/** The route the harness's source is started with. */
export const adminRoute = async (e: UploadCompletedEvent): Promise<Lane | null> => (e.metadata.priority === 'high' ? 'high' : 'normal');

async function nextWithin(source: JobSource, ms: number): Promise<Job | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), ms)));
  const job = await Promise.race([source.next(ADMIN_KIND), timeout]);
  clearTimeout(timer);
  return job;
}

/**
 * The contract every {@link QueueAdmin} passes, on one queue shared by the cases (they run in order
 * and each leaves the queue empty of waiting jobs).
 */
export function queueAdminContract(name: string, makeHarness: () => Promise<QueueAdminHarness>): void {
  describe(`QueueAdmin contract: ${name}`, () => {
    let h: QueueAdminHarness;
    beforeAll(async () => {
      h = await makeHarness();
    });
    afterAll(() => h?.cleanup());

    /** Publishes an event and takes its job. */
    const takeJob = async (event = makeEvent()) => {
      await h.publish(event);
      const job = await nextWithin(h.source, 10_000);
      expect(job?.event.eventId).toBe(event.eventId);
      return job!;
    };

    it('counts waiting and in-flight jobs per kind and lane', async () => {
      await h.publish(makeEvent());
      await h.publish(makeEvent({ metadata: { priority: 'high' } }));
      const total = (lane: Lane) => async () => {
        const d = (await h.admin.depth()).find((x) => x.kind === ADMIN_KIND && x.lane === lane);
        return d && d.waiting + d.inFlight === 1;
      };
      await waitFor(total('high'), 10_000, 'one high job counted');
      await waitFor(total('normal'), 10_000, 'one normal job counted');
      const first = (await nextWithin(h.source, 5000))!;
      expect(first.lane).toBe('high');
      const claimed = (await h.admin.depth()).find((x) => x.kind === ADMIN_KIND && x.lane === 'high')!;
      expect(claimed).toMatchObject({ waiting: 0, inFlight: 1 });
      await first.ack();
      await (await nextWithin(h.source, 5000))!.ack();
      await waitFor(async () => (await h.admin.depth()).every((d) => d.waiting + d.inFlight === 0), 10_000, 'empty queues');
    });

    it('lists a dead letter with its job, kind, upload, code, reason, attempts and time', async () => {
      const job = await takeJob();
      await job.deadLetter({ code: 'BROKEN', reason: 'BROKEN: it broke (after 1 attempt)' });
      const page = await h.admin.deadLetters({ limit: 10 });
      const dead = page.items[0]!;
      expect(dead).toMatchObject({ jobId: job.id, kind: ADMIN_KIND, lane: 'normal', uploadId: job.event.uploadId, code: 'BROKEN', reason: 'BROKEN: it broke (after 1 attempt)', attempts: 1, retriedAt: null });
      expect(Date.parse(dead.failedAt)).toBeGreaterThan(Date.now() - 60_000);
      expect(dead.event?.eventId).toBe(job.event.eventId);
      expect(await h.admin.deadLetter(dead.id)).toEqual(dead);
    });

    it('puts a dead letter back on its queue once, marks it retried, and a second failure is a new dead letter', async () => {
      const job = await takeJob();
      await job.deadLetter({ code: 'BROKEN', reason: 'first failure' });
      const dead = (await h.admin.deadLetters({ limit: 10 })).items.find((d) => d.jobId === job.id)!;
      const [a, b] = await Promise.all([h.admin.requeue(dead.id), h.admin.requeue(dead.id)]);
      expect([a, b].sort()).toEqual(['already-retried', 'retried']);
      expect((await h.admin.deadLetter(dead.id))?.retriedAt).toMatch(/^\d{4}-/);
      expect(await h.admin.requeue(dead.id)).toBe('already-retried');
      const again = await nextWithin(h.source, 10_000);
      expect(again?.id).toBe(job.id);
      expect(again?.deliveryCount).toBe(1);
      // Marked as the operator's retry, with a new time: its attempts are told apart from the first run's.
      expect([job.retried, again?.retried]).toEqual([false, true]);
      expect(again!.persistedAt.getTime()).toBeGreaterThan(job.persistedAt.getTime());
      // Queued once: nothing else waits or is held for kind k (a second next() here would steal later jobs).
      await new Promise((r) => setTimeout(r, 1000));
      const normal = (await h.admin.depth()).find((x) => x.kind === ADMIN_KIND && x.lane === 'normal')!;
      expect(normal.waiting + normal.inFlight).toBe(1);
      await again!.deadLetter({ code: 'BROKEN', reason: 'second failure' });
      const newest = (await h.admin.deadLetters({ limit: 10 })).items.find((d) => d.jobId === job.id)!;
      expect(newest).toMatchObject({ reason: 'second failure', retriedAt: null });
      expect(await h.admin.requeue(newest.id)).toBe('retried');
      const third = await nextWithin(h.source, 10_000);
      expect(third?.id).toBe(job.id);
      await third!.ack();
    });

    it('pages newest first without overlap', async () => {
      for (let i = 0; i < 3; i++) await (await takeJob()).deadLetter({ code: 'BROKEN', reason: `page ${i}` });
      const seen: string[] = [];
      let cursor: string | undefined;
      let previous = Infinity;
      do {
        const page = await h.admin.deadLetters({ cursor, limit: 2 });
        expect(page.items.length).toBeLessThanOrEqual(2);
        for (const d of page.items) {
          expect(Date.parse(d.failedAt)).toBeLessThanOrEqual(previous);
          previous = Date.parse(d.failedAt);
          seen.push(d.id);
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(new Set(seen).size).toBe(seen.length);
      const first = await h.admin.deadLetters({ limit: 3 });
      expect(first.items.map((d) => d.reason)).toEqual(['page 2', 'page 1', 'page 0']);
      expect(seen.length).toBeGreaterThanOrEqual(5);
    });

    it('knows nothing of unknown or malformed ids', async () => {
      for (const id of ['999999999', 'nope~k', '../dead', '']) {
        expect(await h.admin.deadLetter(id)).toBeNull();
        expect(await h.admin.requeue(id)).toBe('not-found');
      }
    });

    it('retryDeadLetter reopens the failed status, then queues the job; refuses a dead letter of an older event', async () => {
      const status = new MemoryStatusStore();
      const job = await takeJob();
      const base = { uploadId: job.event.uploadId, eventId: job.event.eventId, kind: ADMIN_KIND };
      await status.update({ ...base, patch: { state: 'failed', reason: 'broke', code: 'BROKEN', attempts: 3 } });
      await job.deadLetter({ code: 'BROKEN', reason: 'broke' });
      const dead = (await h.admin.deadLetters({ limit: 10 })).items.find((d) => d.jobId === job.id)!;
      expect(await retryDeadLetter(h.admin, status, dead.id)).toBe('retried');
      const reopened = (await status.get(job.event.uploadId))!.jobs[ADMIN_KIND]!;
      expect(reopened).toMatchObject({ state: 'queued', attempts: 0 });
      expect(reopened.reason).toBeUndefined();
      expect(await retryDeadLetter(h.admin, status, dead.id)).toBe('already-retried');
      await (await nextWithin(h.source, 10_000))!.ack();

      const old = await takeJob();
      await old.deadLetter({ code: 'BROKEN', reason: 'broke' });
      await status.update({ uploadId: old.event.uploadId, eventId: `${old.event.eventId}-newer`, kind: ADMIN_KIND, patch: { state: 'done' } });
      const stale = (await h.admin.deadLetters({ limit: 10 })).items.find((d) => d.jobId === old.id)!;
      expect(await retryDeadLetter(h.admin, status, stale.id)).toBe('stale');
      expect(await retryDeadLetter(h.admin, status, 'nope~k')).toBe('not-found');
    });
  });
}
