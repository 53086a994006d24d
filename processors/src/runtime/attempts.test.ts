/**
 * The job history's source: every delivery executeJob settles is handed to the AttemptRecorder once,
 * with its outcome, error code, timings, tokens, model and custom counters (`ctx.metric`).
 */
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeEvent, ScriptedProcessor, wait } from '@tus-edge/testkit';
import type { JobAttempt } from '../pipeline/attempts.js';
import type { Job } from '../pipeline/job-source.js';
import { LocalJobLeases } from '../leases/local.js';
import { createLogger } from '../logger.js';
import { FileResultStore } from '../results/file.js';
import { MemoryStatusStore } from '../status/memory.js';
import { ProcessingError } from '../errors.js';
import { executeJob, type ExecuteDeps } from './execute.js';
import { RuntimeMetrics } from './metrics.js';
import { Postponements } from './postpone.js';

function deps(processor: ScriptedProcessor, recorded: JobAttempt[], status = new MemoryStatusStore()): ExecuteDeps {
  return {
    processors: new Map([[processor.kind, processor]]),
    status, outcomes: null, metrics: new RuntimeMetrics(), logger: createLogger('silent'),
    openStream: async () => {
      throw new Error('no storage in this test');
    },
    maxDeliver: 2, ackWaitMs: 1000, jobTimeoutMs: 10_000, backoff: () => 100,
    shutdown: new AbortController().signal,
    resultsFor: () => new FileResultStore(path.join(os.tmpdir(), 'attempts-test-results-never-written')),
    leases: new LocalJobLeases(),
    postponements: new Postponements(0, (n) => 10 * n),
    attempts: { record: async (a) => void recorded.push(a) },
    nodeName: 'worker-1',
  };
}

function delivery(event: ReturnType<typeof makeEvent>, deliveryCount: number, persistedAt: Date): Job {
  const settle = async () => undefined;
  return { id: `${event.eventId}:work`, kind: 'work', lane: 'normal', event, deliveryCount, persistedAt, working: settle, ack: settle, retry: settle, deadLetter: settle };
}

describe('job attempts for the history', () => {
  it('a retried then done job: two attempts with outcome, code, queue wait, run time, tokens, model and custom counters', async () => {
    let calls = 0;
    const p = new ScriptedProcessor('work', async (_event, ctx) => {
      ctx.metric?.('pages', 3);
      ctx.metric?.('pages', 2);
      ctx.metric?.('Not A Name', 1); // ignored: not a counter name
      ctx.tokensUsed?.({ prompt: 12, completion: 4, model: 'gpt-x' });
      await wait(30);
      if (++calls === 1) throw new ProcessingError('OPENAI_UNAVAILABLE', 'flaky');
      return { result: {} };
    });
    const recorded: JobAttempt[] = [];
    const d = deps(p, recorded);
    const event = makeEvent({ size: 1234, metadata: { filetype: 'Application/PDF' } });
    const queued = new Date(Date.now() - 500);
    expect(await executeJob(delivery(event, 1, queued), d)).toBe('retry');
    expect(await executeJob(delivery(event, 2, queued), d)).toBe('done');
    expect(recorded).toHaveLength(2);
    const [first, second] = recorded as [JobAttempt, JobAttempt];
    expect(first).toMatchObject({
      version: 1, id: `${event.eventId}:work#1`, jobId: `${event.eventId}:work`, uploadId: event.uploadId, kind: 'work',
      mediaType: 'application/pdf', size: 1234, attempt: 1, outcome: 'retry', errorCode: 'OPENAI_UNAVAILABLE',
      model: 'gpt-x', promptTokens: 12, completionTokens: 4, metrics: { pages: 5 }, node: 'worker-1', queuedAt: queued.toISOString(),
    });
    expect(Date.parse(first.startedAt!) - queued.getTime()).toBeGreaterThanOrEqual(500);
    expect(Date.parse(first.endedAt) - Date.parse(first.startedAt!)).toBeGreaterThanOrEqual(25);
    // The retry waited in the queue from when it was put back, not from the upload event.
    expect(second).toMatchObject({ id: `${event.eventId}:work#2`, attempt: 2, outcome: 'done', errorCode: null, metrics: { pages: 5 } });
    expect(Date.parse(second.queuedAt)).toBeGreaterThanOrEqual(Date.parse(first.endedAt) - 50);
  });

  it('a settled job delivered again is recorded as a duplicate without a run; a failing recorder changes nothing', async () => {
    const p = new ScriptedProcessor('work', async () => ({ result: {} }));
    const recorded: JobAttempt[] = [];
    const status = new MemoryStatusStore();
    const d = deps(p, recorded, status);
    const event = makeEvent();
    expect(await executeJob(delivery(event, 1, new Date()), d)).toBe('done');
    expect(await executeJob(delivery(event, 2, new Date()), d)).toBe('duplicate');
    expect(recorded.map((a) => [a.outcome, a.startedAt === null])).toEqual([['done', false], ['duplicate', true]]);
    const broken = { ...deps(p, [], status), attempts: { record: async () => Promise.reject(new Error('database gone')) } };
    expect(await executeJob(delivery(makeEvent(), 1, new Date()), broken)).toBe('done');
  });
});
