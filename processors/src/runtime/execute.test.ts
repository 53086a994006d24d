/**
 * executeJob on its own, with in-memory status and hand-made deliveries: the cases the runtime tests
 * reach only by timing (a redelivery that arrives while the first delivery still runs).
 */
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Job } from '../pipeline/job-source.js';
import { type LeaseTable, LocalJobLeases } from '../leases/local.js';
import { createLogger } from '../logger.js';
import { FileResultStore } from '../results/file.js';
import { MemoryStatusStore } from '../status/memory.js';
import { makeEvent } from '@tus-edge/testkit';
import { ScriptedProcessor, wait } from '@tus-edge/testkit';
import { ProcessingError } from '../errors.js';
import { executeJob, type ExecuteDeps } from './execute.js';
import { RuntimeMetrics } from './metrics.js';
import { Postponements } from './postpone.js';

function deps(processor: ScriptedProcessor, shared: { status?: MemoryStatusStore; leases?: LeaseTable } = {}): ExecuteDeps {
  return {
    processors: new Map([[processor.kind, processor]]),
    status: shared.status ?? new MemoryStatusStore(),
    outcomes: null,
    metrics: new RuntimeMetrics(),
    logger: createLogger('silent'),
    openStream: async () => {
      throw new Error('no storage in this test');
    },
    maxDeliver: 3,
    ackWaitMs: 1000,
    jobTimeoutMs: 10_000,
    backoff: () => 100,
    shutdown: new AbortController().signal,
    resultsFor: () => new FileResultStore(path.join(os.tmpdir(), 'execute-test-results-never-written')),
    leases: new LocalJobLeases(shared.leases),
    postponements: new Postponements(3, (n) => 10 * n),
  };
}

function delivery(event: ReturnType<typeof makeEvent>, deliveryCount: number, settled: string[]): Job {
  return {
    id: `${event.eventId}:work`, kind: 'work', lane: 'normal', event, deliveryCount, persistedAt: new Date(),
    working: async () => undefined,
    ack: async () => void settled.push(`ack ${deliveryCount}`),
    retry: async (ms) => void settled.push(`retry ${deliveryCount} after ${ms} ms`),
    deadLetter: async () => void settled.push(`dead ${deliveryCount}`),
  };
}

describe('executeJob', () => {
  it('a redelivery of a job that is still running here is postponed, not run a second time', async () => {
    const p = new ScriptedProcessor('work', async () => {
      await wait(200);
      return { result: {} };
    });
    const d = deps(p);
    const event = makeEvent();
    const settled: string[] = [];
    const first = executeJob(delivery(event, 1, settled), d);
    await wait(50);
    expect(await executeJob(delivery(event, 2, settled), d)).toBe('duplicate');
    expect(await first).toBe('done');
    expect(p.effects).toHaveLength(1);
    expect(settled).toEqual(['retry 2 after 1000 ms', 'ack 1']);
    // Once the first is settled, the postponed delivery finds it done and makes no second effect.
    expect(await executeJob(delivery(event, 3, settled), d)).toBe('duplicate');
    expect(p.effects).toHaveLength(1);
    expect(await d.leases.acquire(`${event.eventId}:work`, 1000)).toBe(true); // released when settled
  });

  it('a processing request runs its claimed kind once; a late delivery of the run it replaced has no effect', async () => {
    const p = new ScriptedProcessor('work', async () => ({ result: { ran: true } }));
    const status = new MemoryStatusStore();
    const d = deps(p, { status });
    const upload = makeEvent();
    const settled: string[] = [];
    await status.update({ uploadId: upload.uploadId, eventId: upload.eventId, kind: 'work', patch: { state: 'queued' } });
    await status.update({ uploadId: upload.uploadId, eventId: upload.eventId, kind: 'other', patch: { state: 'done' } });
    // The upload's own run of the kind failed; a request runs it again.
    await status.update({ uploadId: upload.uploadId, eventId: upload.eventId, kind: 'work', patch: { state: 'failed', reason: 'x' } });
    expect(await status.claim({ uploadId: upload.uploadId, uploadEventId: upload.eventId, runId: 'process-1', kinds: ['work'], lane: 'high' })).toEqual([]);
    const request = { ...upload, eventId: 'process-1', request: { kinds: ['work'], lane: 'high' as const, options: {}, requestedAt: '' } };
    expect(await executeJob(delivery(request, 1, settled), d)).toBe('done');
    expect(await executeJob(delivery(upload, 2, settled), d)).toBe('duplicate'); // the replaced run, delivered late
    expect(p.effects).toHaveLength(1);
    const s = (await status.get(upload.uploadId))!;
    expect(s.jobs.work).toMatchObject({ state: 'done', runId: 'process-1', result: { ran: true }, previous: { runId: upload.eventId, state: 'failed' } });
    expect(s.jobs.other.state).toBe('done');
    expect(settled).toEqual(['ack 1', 'ack 2']);
  });

  it('a redelivery to another worker while the first still runs the job is postponed there (the lease)', async () => {
    const p = new ScriptedProcessor('work', async () => {
      await wait(200);
      return { result: {} };
    });
    const status = new MemoryStatusStore();
    const leases: LeaseTable = new Map();
    const [workerA, workerB] = [deps(p, { status, leases }), deps(p, { status, leases })];
    const event = makeEvent();
    const settled: string[] = [];
    const first = executeJob(delivery(event, 1, settled), workerA);
    await wait(50);
    expect(await executeJob(delivery(event, 2, settled), workerB)).toBe('duplicate');
    expect(await first).toBe('done');
    expect(await executeJob(delivery(event, 3, settled), workerB)).toBe('duplicate');
    expect(p.effects).toHaveLength(1);
    expect(settled).toEqual(['retry 2 after 1000 ms', 'ack 1', 'ack 3']);
  });

  it('a worker whose lease ran out and was taken stops its run and settles nothing', async () => {
    const p = new ScriptedProcessor('work', async (_event, ctx) => {
      await wait(5000, ctx.signal);
      return { result: {} };
    });
    const status = new MemoryStatusStore();
    const leases: LeaseTable = new Map();
    const workerA = { ...deps(p, { status, leases }), ackWaitMs: 300 }; // renews every 100 ms
    const event = makeEvent();
    const settled: string[] = [];
    const first = executeJob(delivery(event, 1, settled), workerA);
    await wait(50);
    // A's lease runs out (say its Redis link failed for longer than the TTL) and worker B takes it.
    leases.clear();
    expect(await new LocalJobLeases(leases).acquire(`${event.eventId}:work`, 10_000)).toBe(true);
    expect(await first).toBe('duplicate');
    expect(settled).toEqual([]);
    expect((await status.get(event.uploadId))?.jobs.work.state).toBe('processing');
    expect(p.effects).toHaveLength(0);
  });

  it('time spent waiting for other jobs does not count against the job timeout; running time does', async () => {
    const status = new MemoryStatusStore();
    const event = makeEvent();
    const p = new ScriptedProcessor('work', async (_event, ctx) => {
      await ctx.waitFor(['upstream']); // 400 ms, twice the job timeout
      await wait(100, ctx.signal);
      return { result: {} };
    });
    const d = { ...deps(p, { status }), jobTimeoutMs: 200 };
    setTimeout(() => void status.update({ uploadId: event.uploadId, eventId: event.eventId, kind: 'upstream', patch: { state: 'done' } }), 400);
    const settled: string[] = [];
    expect(await executeJob(delivery(event, 1, settled), d)).toBe('done');

    const slow = new ScriptedProcessor('work', async (_event, ctx) => {
      await ctx.waitFor(['upstream']); // done already
      await wait(1000, ctx.signal);
      return { result: {} };
    });
    const other = makeEvent();
    await status.update({ uploadId: other.uploadId, eventId: other.eventId, kind: 'upstream', patch: { state: 'done' } });
    expect(await executeJob(delivery(other, 1, settled), { ...deps(slow, { status }), jobTimeoutMs: 200 })).toBe('retry');
    expect((await status.get(other.uploadId))?.jobs.work).toMatchObject({ state: 'queued', code: 'TIMEOUT' });
  });

  it("an outside service's transient failure is postponed with a delay and spends no attempt, up to the bound", async () => {
    let failures = 3;
    const p = new ScriptedProcessor('work', async () => {
      if (failures-- > 0) throw new ProcessingError('OPENAI_UNAVAILABLE', 'chat: 503 overloaded');
      return { result: {} };
    });
    const d = { ...deps(p), maxDeliver: 1 }; // one attempt: any counted failure would dead-letter it
    const event = makeEvent();
    const settled: string[] = [];
    for (let n = 1; n <= 3; n++) expect(await executeJob(delivery(event, n, settled), d)).toBe('postponed');
    expect((await d.status.get(event.uploadId))?.jobs.work).toMatchObject({ state: 'queued', code: 'OPENAI_UNAVAILABLE', postponed: 3, attempts: 1 });
    expect(await executeJob(delivery(event, 4, settled), d)).toBe('done');
    expect(settled).toEqual(['retry 1 after 10 ms', 'retry 2 after 20 ms', 'retry 3 after 30 ms', 'ack 4']);
    expect((await d.status.get(event.uploadId))?.jobs.work).toMatchObject({ state: 'done', attempts: 1, postponed: 3 });

    // Past the bound (3 here) the failure counts like any other: with one attempt allowed, dead-lettered.
    const down = new ScriptedProcessor('work', async () => {
      throw new ProcessingError('OPENAI_UNAVAILABLE', 'chat: 503 overloaded');
    });
    const d2 = { ...deps(down), maxDeliver: 1 };
    const other = makeEvent();
    const log: string[] = [];
    for (let n = 1; n <= 3; n++) expect(await executeJob(delivery(other, n, log), d2)).toBe('postponed');
    expect(await executeJob(delivery(other, 4, log), d2)).toBe('failed');
    expect(log.at(-1)).toBe('dead 4');
    expect((await d2.status.get(other.uploadId))?.jobs.work).toMatchObject({ state: 'failed', attempts: 1, postponed: 3 });
  });

  it('a failure that is not an outside service (a bug, a timeout) still spends its attempt', async () => {
    const p = new ScriptedProcessor('work', async () => {
      throw new Error('a bug');
    });
    const d = { ...deps(p), maxDeliver: 2 };
    const event = makeEvent();
    const settled: string[] = [];
    expect(await executeJob(delivery(event, 1, settled), d)).toBe('retry');
    expect(await executeJob(delivery(event, 2, settled), d)).toBe('failed');
    expect(settled).toEqual(['retry 1 after 100 ms', 'dead 2']);
  });
});
