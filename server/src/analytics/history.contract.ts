/**
 * The contract every job history backend passes (SQLite in a temp dir, real PostgreSQL): each test
 * gets a fresh, migrated database. Percentiles must agree across dialects (PostgreSQL computes them
 * in SQL, SQLite in code) and survive the daily rollup within the histogram's 5 %.
 */
import { describe, expect, it } from 'vitest';
import type { JobHistory, StoredAttempt } from './types.js';

const alice = { tenant: 't1', owner: 'alice' };
const bob = { tenant: 't1', owner: 'bob' };

let seq = 0;
/** An attempt that ended at `end` after `durationMs`, having waited `waitMs`. */
function attempt(end: string, fields: Partial<StoredAttempt> & { durationMs?: number; waitMs?: number } = {}): StoredAttempt {
  const { durationMs = 100, waitMs = 10, ...rest } = fields;
  const ended = Date.parse(end);
  const started = ended - durationMs;
  const n = ++seq;
  return {
    version: 1, id: `e${n}:video#1`, jobId: `e${n}:video`, uploadId: `u${n}`, kind: 'video', mediaType: 'video/mp4', size: 1000,
    queuedAt: new Date(started - waitMs).toISOString(), startedAt: new Date(started).toISOString(), endedAt: new Date(ended).toISOString(),
    attempt: 1, outcome: 'done', errorCode: null, model: null, promptTokens: 0, completionTokens: 0, metrics: {}, node: 'n1',
    ...alice, ...rest,
  };
}

export function historyContract(name: string, fresh: () => Promise<JobHistory>): void {
  describe(`Job history contract: ${name}`, () => {
    const range = { from: new Date('2030-01-01T00:00:00Z'), to: new Date('2030-01-02T00:00:00Z') };

    it('processing by kind: jobs are done + failed attempts, percentiles interpolated like percentile_cont, writes idempotent', async () => {
      const h = await fresh();
      try {
        const rows = [100, 200, 300, 400, 1000].map((d, i) => attempt(`2030-01-01T10:0${i}:00Z`, { durationMs: d, waitMs: d / 10 }));
        rows.push(attempt('2030-01-01T10:10:00Z', { outcome: 'failed', errorCode: 'CORRUPT_FILE', durationMs: 50, waitMs: 5 }));
        rows.push(attempt('2030-01-01T10:11:00Z', { outcome: 'retry', errorCode: 'TIMEOUT' }));
        rows.push(attempt('2030-01-01T10:12:00Z', { kind: 'documents', mediaType: 'application/pdf', durationMs: 40 }));
        rows.push(attempt('2030-01-01T10:13:00Z', { kind: 'documents', outcome: 'skipped', startedAt: null }));
        rows.push(attempt('2030-01-03T10:00:00Z', { durationMs: 9999 })); // outside the range
        await h.recordAttempts(rows);
        await h.recordAttempts(rows.slice(0, 3)); // the same attempts again: stored once
        const r = await h.processing({ ...range, groupBy: 'kind', scope: {} });
        expect(r).toMatchObject({ from: '2030-01-01T00:00:00.000Z', to: '2030-01-02T00:00:00.000Z', groupBy: 'kind' });
        expect(r.interval).toBeUndefined();
        expect(r.groups).toEqual([
          { key: 'video', jobs: 6, done: 5, failed: 1, failureRate: 0.167, durationMs: { p50: 300, p95: 880, p99: 976 }, queueWaitMs: { p50: 25, p95: 85, p99: 97 } },
          { key: 'documents', jobs: 1, done: 1, failed: 0, failureRate: 0, durationMs: { p50: 40, p95: 40, p99: 40 }, queueWaitMs: { p50: 10, p95: 10, p99: 10 } },
        ]);
        const byType = await h.processing({ ...range, groupBy: 'mediaType', scope: {} });
        expect(byType.groups.map((g) => [g.key, g.jobs])).toEqual([['video/mp4', 6], ['application/pdf', 1]]);
      } finally {
        await h.close();
      }
    });

    it('a group without a done attempt has null durations; series per hour; owners see their own', async () => {
      const h = await fresh();
      try {
        await h.recordAttempts([
          attempt('2030-01-01T08:10:00Z', { durationMs: 100 }),
          attempt('2030-01-01T08:20:00Z', { durationMs: 300 }),
          attempt('2030-01-01T09:30:00Z', { outcome: 'failed', durationMs: 20 }),
          attempt('2030-01-01T09:40:00Z', { ...bob, kind: 'generate', outcome: 'failed', errorCode: 'OPENAI_UNAVAILABLE' }),
        ]);
        const r = await h.processing({ ...range, groupBy: 'kind', interval: '1h', scope: alice });
        expect(r.interval).toBe('1h');
        expect(r.groups).toEqual([{
          key: 'video', jobs: 3, done: 2, failed: 1, failureRate: 0.333,
          durationMs: { p50: 200, p95: 290, p99: 298 }, queueWaitMs: { p50: 10, p95: 10, p99: 10 },
          series: [
            { start: '2030-01-01T08:00:00.000Z', jobs: 2, failed: 0, p50Ms: 200, p95Ms: 290 },
            { start: '2030-01-01T09:00:00.000Z', jobs: 1, failed: 1, p50Ms: null, p95Ms: null },
          ],
        }]);
        const theirs = await h.processing({ ...range, groupBy: 'kind', scope: bob });
        expect(theirs.groups).toEqual([{ key: 'generate', jobs: 1, done: 0, failed: 1, failureRate: 1, durationMs: null, queueWaitMs: { p50: 10, p95: 10, p99: 10 } }]);
        const daily = await h.processing({ ...range, groupBy: 'kind', interval: '1d', scope: {} });
        expect(daily.groups.find((g) => g.key === 'video')!.series).toEqual([{ start: '2030-01-01T00:00:00.000Z', jobs: 3, failed: 1, p50Ms: 200, p95Ms: 290 }]);
        expect((await h.processing({ ...range, groupBy: 'kind', scope: { tenant: 't2' } })).groups).toEqual([]);
      } finally {
        await h.close();
      }
    });

    it('generation by model: requests are attempts that ran, tokens summed, failures without a model are "unknown"', async () => {
      const h = await fresh();
      try {
        const gen = { kind: 'generate', mediaType: 'application/pdf' };
        await h.recordAttempts([
          attempt('2030-01-01T10:00:00Z', { ...gen, model: 'gpt-a', promptTokens: 100, completionTokens: 20, durationMs: 1000 }),
          attempt('2030-01-01T10:01:00Z', { ...gen, model: 'gpt-a', promptTokens: 50, completionTokens: 10, durationMs: 3000 }),
          attempt('2030-01-01T10:02:00Z', { ...gen, model: 'gpt-a', outcome: 'retry', errorCode: 'INVALID_GENERATED_CONTENT', promptTokens: 5, completionTokens: 5 }),
          attempt('2030-01-01T10:03:00Z', { ...gen, outcome: 'postponed', errorCode: 'OPENAI_UNAVAILABLE' }),
          attempt('2030-01-01T10:04:00Z', { ...gen, outcome: 'duplicate', startedAt: null }),
          attempt('2030-01-01T10:05:00Z', { kind: 'video' }),
        ]);
        const r = await h.generation({ ...range, scope: {} });
        expect(r.models).toEqual([
          { model: 'gpt-a', requests: 3, failures: 1, promptTokens: 155, completionTokens: 35, latencyMs: { p50: 2000, p95: 2900, p99: 2980 } },
          { model: 'unknown', requests: 1, failures: 1, promptTokens: 0, completionTokens: 0, latencyMs: null },
        ]);
        expect((await h.generation({ ...range, scope: bob })).models).toEqual([]);
      } finally {
        await h.close();
      }
    });

    it('usage: finished uploads and bytes, abandoned uploads per day; per owner for the operator; once per upload', async () => {
      const h = await fresh();
      try {
        const events = [
          { uploadId: 'a1', ...alice, event: 'finished' as const, bytes: 1000, at: '2030-01-01T01:00:00.000Z' },
          { uploadId: 'a2', ...alice, event: 'finished' as const, bytes: 500, at: '2030-01-02T01:00:00.000Z' },
          { uploadId: 'a3', ...alice, event: 'abandoned' as const, bytes: 0, at: '2030-01-02T02:00:00.000Z' },
          { uploadId: 'b1', ...bob, event: 'finished' as const, bytes: 7000, at: '2030-01-02T03:00:00.000Z' },
        ];
        for (const e of events) await h.recordUsage(e);
        await h.recordUsage(events[0]!);
        const two = { from: new Date('2030-01-01T00:00:00Z'), to: new Date('2030-01-03T00:00:00Z') };
        expect(await h.usage({ ...two, scope: alice }, false)).toEqual({
          from: '2030-01-01T00:00:00.000Z', to: '2030-01-03T00:00:00.000Z',
          days: [{ day: '2030-01-01', uploads: 1, bytes: 1000, abandoned: 0 }, { day: '2030-01-02', uploads: 1, bytes: 500, abandoned: 1 }],
        });
        const all = await h.usage({ ...two, scope: {} }, true);
        expect(all.days).toEqual([{ day: '2030-01-01', uploads: 1, bytes: 1000, abandoned: 0 }, { day: '2030-01-02', uploads: 2, bytes: 7500, abandoned: 1 }]);
        expect(all.owners).toEqual([{ ...bob, uploads: 1, bytes: 7000, abandoned: 0 }, { ...alice, uploads: 2, bytes: 1500, abandoned: 1 }]);
      } finally {
        await h.close();
      }
    });

    it('rollup: days before the cutoff fold into daily rows; answers keep their counts, percentiles within 5 %, late rows merge; the daily report', async () => {
      const h = await fresh();
      try {
        const durations = Array.from({ length: 40 }, (_, i) => 100 + i * 50);
        const rows = durations.map((d, i) => attempt(`2030-01-01T${String(10 + (i % 10)).padStart(2, '0')}:00:00Z`, { durationMs: d, waitMs: 20, metrics: { pages: 2 } }));
        rows.push(attempt('2030-01-01T11:00:00Z', { outcome: 'failed', errorCode: 'CORRUPT_FILE' }));
        rows.push(attempt('2030-01-01T11:00:00Z', { kind: 'generate', model: 'gpt-a', promptTokens: 10, completionTokens: 5, durationMs: 700 }));
        rows.push(attempt('2030-01-02T11:00:00Z', { durationMs: 5 })); // after the cutoff: stays raw
        await h.recordAttempts(rows);
        await h.recordUsage({ uploadId: 'a1', ...alice, event: 'finished', bytes: 123, at: '2030-01-01T05:00:00.000Z' });
        const wide = { from: new Date('2030-01-01T00:00:00Z'), to: new Date('2030-01-03T00:00:00Z'), scope: {} };
        const before = await h.processing({ ...wide, groupBy: 'kind', interval: '1d' });
        const reportBefore = await h.dailyReport('2030-01-01');

        const folded = await h.rollup(new Date('2030-01-02T06:00:00Z'));
        expect(folded).toEqual({ days: ['2030-01-01'], attempts: 42, usageEvents: 1 });
        expect(await h.rollup(new Date('2030-01-02T06:00:00Z'))).toEqual({ days: [], attempts: 0, usageEvents: 0 });

        const after = await h.processing({ ...wide, groupBy: 'kind', interval: '1d' });
        const close = (a: number, b: number) => expect(Math.abs(a - b) / b, `${a} vs ${b}`).toBeLessThanOrEqual(0.05);
        for (const g of before.groups) {
          const f = after.groups.find((x) => x.key === g.key)!;
          expect({ jobs: f.jobs, done: f.done, failed: f.failed, failureRate: f.failureRate }).toEqual({ jobs: g.jobs, done: g.done, failed: g.failed, failureRate: g.failureRate });
          for (const q of ['p50', 'p95', 'p99'] as const) close(f.durationMs![q], g.durationMs![q]);
          expect(f.series!.map((p) => [p.start, p.jobs, p.failed])).toEqual(g.series!.map((p) => [p.start, p.jobs, p.failed]));
        }
        const gen = await h.generation(wide);
        expect(gen.models).toEqual([{ model: 'gpt-a', requests: 1, failures: 0, promptTokens: 10, completionTokens: 5, latencyMs: { p50: expect.any(Number), p95: expect.any(Number), p99: expect.any(Number) } }]);
        close(gen.models[0]!.latencyMs!.p50, 700);
        expect((await h.usage({ ...wide }, true)).days).toEqual([{ day: '2030-01-01', uploads: 1, bytes: 123, abandoned: 0 }]);

        // A late attempt of a folded day is folded into the same daily row.
        await h.recordAttempts([attempt('2030-01-01T23:00:00Z', { durationMs: 100 })]);
        expect((await h.rollup(new Date('2030-01-02T06:00:00Z'))).attempts).toBe(1);
        const late = await h.processing({ ...wide, groupBy: 'kind' });
        expect(late.groups.find((g) => g.key === 'video')!.jobs).toBe(before.groups.find((g) => g.key === 'video')!.jobs + 1);

        const report = await h.dailyReport('2030-01-01');
        const video = report.kinds.find((k) => k.kind === 'video')!;
        expect(video).toMatchObject({ attempts: 42, done: 41, failed: 1, metrics: { pages: 80 } });
        expect(reportBefore.kinds.find((k) => k.kind === 'video')).toMatchObject({ attempts: 41, done: 40, failed: 1, metrics: { pages: 80 } });
        expect(report.kinds.find((k) => k.kind === 'generate')).toMatchObject({ attempts: 1, promptTokens: 10, completionTokens: 5 });
        expect(report.usage).toEqual({ uploads: 1, bytes: 123, abandoned: 0 });
      } finally {
        await h.close();
      }
    });
  });
}

