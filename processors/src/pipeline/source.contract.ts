import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UploadCompletedEvent } from './event.js';
import type { DeadLetterRecord, Job, JobSource, Lane, SourceStartOptions } from './job-source.js';
import { makeEvent, waitFor } from '@tus-edge/testkit';

/** What a source implementation provides to the shared contract. */
export interface SourceHarness {
  /** A new source over the shared backing store (another worker, or the same one after a restart). */
  open(): Promise<JobSource>;
  /** Publishes an event the way the server does. */
  publish(event: UploadCompletedEvent): Promise<void>;
  /** Publishes a payload that is not a valid event. */
  publishRaw(id: string, payload: string): Promise<void>;
  deadLetters(): Promise<DeadLetterRecord[]>;
  /** The ack wait the sources were built with (unacked jobs come back after it). */
  ackWaitMs: number;
  cleanup(): Promise<void>;
}

const KIND = 'k';
const route = async (e: UploadCompletedEvent): Promise<Lane | null> => (e.metadata.priority === 'high' ? 'high' : 'normal');
const startOptions = (overrides: Partial<SourceStartOptions> = {}): SourceStartOptions => ({ kinds: [KIND], route, backoff: () => 50, ...overrides });

/** Resolves with the next job, or null after `ms`. */
async function nextWithin(source: JobSource, ms: number): Promise<Job | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), ms)));
  const job = await Promise.race([source.next(KIND), timeout]);
  clearTimeout(timer);
  return job;
}

async function pendingTotal(source: JobSource): Promise<number> {
  return (await source.pending()).reduce((n, p) => n + p.count, 0);
}

/** The contract every {@link JobSource} passes. */
export function jobSourceContract(name: string, makeHarness: () => Promise<SourceHarness>): void {
  describe(`JobSource contract: ${name}`, () => {
    let h: SourceHarness;
    const open: JobSource[] = [];
    const start = async (overrides?: Partial<SourceStartOptions>) => {
      const s = await h.open();
      open.push(s);
      await s.start(startOptions(overrides));
      return s;
    };

    beforeEach(async () => {
      h = await makeHarness();
    });
    afterEach(async () => {
      for (const s of open.splice(0)) await s.stop();
      await h.cleanup();
    });

    it('turns an event into a job; an acked job is not delivered again, even after a restart', async () => {
      const s = await start();
      const event = makeEvent();
      await h.publish(event);
      const job = (await nextWithin(s, 5000))!;
      expect(job).toMatchObject({ id: `${event.eventId}:${KIND}`, kind: KIND, lane: 'normal', deliveryCount: 1, event });
      expect(job.persistedAt.getTime()).toBeGreaterThan(Date.now() - 10_000);
      await job.ack();
      expect(await nextWithin(s, 300)).toBeNull();
      await s.stop();
      const again = await start();
      expect(await nextWithin(again, h.ackWaitMs + 500)).toBeNull();
    });

    it('a duplicate publish makes one job', async () => {
      const s = await start();
      const event = makeEvent();
      await h.publish(event);
      await h.publish(event);
      const job = (await nextWithin(s, 5000))!;
      await job.ack();
      await h.publish(event);
      expect(await nextWithin(s, 500)).toBeNull();
    });

    it('retry(delay) redelivers after the delay with the attempt counted', async () => {
      const s = await start();
      await h.publish(makeEvent());
      const first = (await nextWithin(s, 5000))!;
      const t0 = Date.now();
      await first.retry(400);
      const second = (await nextWithin(s, 5000))!;
      expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
      expect(second.id).toBe(first.id);
      expect(second.deliveryCount).toBe(2);
      await second.ack();
    });

    it('serves the high lane first', async () => {
      const s = await start();
      for (let i = 0; i < 3; i++) await h.publish(makeEvent({ metadata: { n: String(i) } }));
      await h.publish(makeEvent({ metadata: { priority: 'high' } }));
      await waitFor(async () => (await pendingTotal(s)) === 4, 5000, 'four pending jobs');
      const first = (await nextWithin(s, 5000))!;
      expect(first.lane).toBe('high');
      await first.ack();
      for (let i = 0; i < 3; i++) await (await nextWithin(s, 5000))!.ack();
    });

    it('a job neither acked nor retried comes back after a restart', async () => {
      const s = await start();
      await h.publish(makeEvent());
      const job = (await nextWithin(s, 5000))!;
      await s.stop();
      const again = await start();
      const redelivered = (await nextWithin(again, h.ackWaitMs + 5000))!;
      expect(redelivered.id).toBe(job.id);
      // 2, or more when the ack wait also expired while the first source was stopping.
      expect(redelivered.deliveryCount).toBeGreaterThanOrEqual(2);
      await redelivered.ack();
    });

    it('deadLetter keeps a record with the reason and never redelivers', async () => {
      const s = await start();
      const event = makeEvent();
      await h.publish(event);
      const job = (await nextWithin(s, 5000))!;
      await job.deadLetter({ code: 'PERMANENT', reason: 'PERMANENT: broken' });
      const [record] = await waitFor(async () => {
        const found = (await h.deadLetters()).filter((d) => d.kind === KIND);
        return found.length > 0 && found;
      }, 5000, 'dead letter');
      expect(record).toMatchObject({ jobId: job.id, kind: KIND, code: 'PERMANENT', reason: 'PERMANENT: broken', attempts: 1, event });
      expect(await nextWithin(s, h.ackWaitMs + 300)).toBeNull();
    });

    it('an event that cannot be routed now is dispatched again later', async () => {
      let failures = 1;
      const s = await start({
        route: async (e) => {
          if (failures-- > 0) throw new Error('status store down');
          return route(e);
        },
      });
      await h.publish(makeEvent());
      const job = (await nextWithin(s, 5000))!;
      expect(failures).toBe(-1);
      await job.ack();
    });

    it('an invalid event is dead-lettered at dispatch', async () => {
      await start();
      await h.publishRaw('broken-1', '{"version":1,"type":"uploads.completed"}');
      const records = await waitFor(async () => {
        const found = (await h.deadLetters()).filter((d) => d.kind === 'dispatch');
        return found.length > 0 && found;
      }, 5000, 'dispatch dead letter');
      expect(records[0]).toMatchObject({ code: 'INVALID_EVENT' });
      expect(records[0].reason).toMatch(/eventId/);
    });

    it('two sources split the jobs, each job to one of them', async () => {
      const a = await start();
      const b = await start();
      const ids = new Map<string, string>();
      const take = async (s: JobSource, who: string) => {
        for (;;) {
          const job = await nextWithin(s, 1500);
          if (!job) return;
          expect(ids.has(job.id)).toBe(false);
          ids.set(job.id, who);
          await new Promise((r) => setTimeout(r, 20));
          await job.ack();
        }
      };
      for (let i = 0; i < 20; i++) await h.publish(makeEvent());
      await Promise.all([take(a, 'a'), take(b, 'b')]);
      const by = [...ids.values()];
      expect(ids.size).toBe(20);
      expect(by.filter((w) => w === 'a').length).toBeGreaterThan(2);
      expect(by.filter((w) => w === 'b').length).toBeGreaterThan(2);
    });
  });
}
