import { sql } from 'kysely';
import { addToHistogram, exactPercentiles, histogramFromJson, histogramPercentiles, mergeHistogram, type Histogram, type Percentiles } from './histogram.js';
import { bucketStart, dayRange, MAX_ROWS, num, type Dialect, type HistoryDb } from './db.js';
import type { HistoryScope, ProcessingGroup, ProcessingQuery, ProcessingReport, SeriesPoint } from './types.js';

/** Values and counts of one group or one series point, before percentiles. */
class Acc {
  jobs = 0;
  done = 0;
  failed = 0;
  durations: number[] = [];
  waits: number[] = [];
  durationHist: Histogram = {};
  waitHist: Histogram = {};
  /** Folded days contributed: percentiles then come from histograms. */
  folded = false;

  percentiles(which: 'duration' | 'wait'): Percentiles | null {
    const values = which === 'duration' ? this.durations : this.waits;
    if (!this.folded) return exactPercentiles(values);
    const hist = mergeHistogram({}, which === 'duration' ? this.durationHist : this.waitHist);
    for (const v of values) addToHistogram(hist, v);
    return histogramPercentiles(hist);
  }
}

const rate = (failed: number, jobs: number) => (jobs === 0 ? 0 : Math.round((failed / jobs) * 1000) / 1000);

/** Applies a scope to a query on a table with `tenant` and `owner` columns. */
export function scoped<Q extends { where: (...args: any[]) => Q }>(q: Q, scope: HistoryScope): Q {
  let out = q;
  if (scope.tenant !== undefined) out = out.where('tenant', '=', scope.tenant);
  if (scope.owner !== undefined) out = out.where('owner', '=', scope.owner);
  return out;
}

/**
 * `GET /api/analytics/processing`: jobs that ended in the range (done or failed), grouped by kind or
 * media type, with p50/p95/p99 of run time and queue wait, and a series per interval.
 * Percentiles: in SQL (`percentile_cont`) on PostgreSQL while the range holds only raw attempts; in
 * code otherwise (SQLite has no percentile function): on at most {@link MAX_ROWS} raw rows (the
 * newest), interpolated like `percentile_cont`, and from histograms merged with them where folded days
 * take part.
 */
export async function processingReport(db: HistoryDb, dialect: Dialect, q: ProcessingQuery): Promise<ProcessingReport> {
  const from = q.from.toISOString();
  const to = q.to.toISOString();
  const { first, last } = dayRange(q.from, q.to);
  const daily = await scoped(db.selectFrom('job_daily').where('day', '>=', first).where('day', '<=', last).where('attempts', '>', 0), q.scope)
    .select(['day', 'kind', 'media_type', 'done', 'failed', 'duration_hist', 'wait_hist'])
    .execute();
  const groups = dialect === 'postgres' && daily.length === 0 ? await inSql(db, q, from, to) : await inCode(db, q, from, to, daily);
  groups.sort((a, b) => b.jobs - a.jobs || a.key.localeCompare(b.key));
  return { from, to, groupBy: q.groupBy, ...(q.interval && { interval: q.interval }), groups };
}

function rawAttempts(db: HistoryDb, q: ProcessingQuery, from: string, to: string) {
  return scoped(
    db.selectFrom('job_attempts').where('ended_at', '>=', from).where('ended_at', '<', to).where('outcome', 'in', ['done', 'failed']),
    q.scope,
  );
}

async function inCode(
  db: HistoryDb, q: ProcessingQuery, from: string, to: string,
  daily: Array<{ day: string; kind: string; media_type: string; done: number; failed: number; duration_hist: string; wait_hist: string }>,
): Promise<ProcessingGroup[]> {
  const rows = await rawAttempts(db, q, from, to)
    .select(['kind', 'media_type', 'outcome', 'ended_at', 'duration_ms', 'queue_wait_ms'])
    .orderBy('ended_at', 'desc')
    .limit(MAX_ROWS)
    .execute();
  const groups = new Map<string, { acc: Acc; series: Map<string, Acc> }>();
  const groupOf = (key: string) => {
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { acc: new Acc(), series: new Map() }));
    return g;
  };
  const pointOf = (g: { series: Map<string, Acc> }, start: string) => {
    let p = g.series.get(start);
    if (!p) g.series.set(start, (p = new Acc()));
    return p;
  };
  for (const r of rows) {
    const g = groupOf(q.groupBy === 'kind' ? r.kind : r.media_type);
    const targets = q.interval ? [g.acc, pointOf(g, bucketStart(r.ended_at, q.interval))] : [g.acc];
    for (const a of targets) {
      a.jobs++;
      if (r.outcome === 'done') {
        a.done++;
        if (r.duration_ms !== null) a.durations.push(num(r.duration_ms));
      } else a.failed++;
      if (r.queue_wait_ms !== null) a.waits.push(num(r.queue_wait_ms));
    }
  }
  for (const d of daily) {
    const g = groupOf(q.groupBy === 'kind' ? d.kind : d.media_type);
    const targets = q.interval ? [g.acc, pointOf(g, `${d.day}T00:00:00.000Z`)] : [g.acc];
    for (const a of targets) {
      a.folded = true;
      a.jobs += num(d.done) + num(d.failed);
      a.done += num(d.done);
      a.failed += num(d.failed);
      mergeHistogram(a.durationHist, histogramFromJson(d.duration_hist));
      mergeHistogram(a.waitHist, histogramFromJson(d.wait_hist));
    }
  }
  return [...groups].map(([key, { acc, series }]) => ({
    key,
    jobs: acc.jobs,
    done: acc.done,
    failed: acc.failed,
    failureRate: rate(acc.failed, acc.jobs),
    durationMs: acc.percentiles('duration'),
    queueWaitMs: acc.percentiles('wait'),
    ...(q.interval && {
      series: [...series]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([start, p]): SeriesPoint => {
          const d = p.percentiles('duration');
          return { start, jobs: p.jobs, failed: p.failed, p50Ms: d?.p50 ?? null, p95Ms: d?.p95 ?? null };
        }),
    }),
  }));
}

type PgPercentiles = number[] | null;
const pct = (v: PgPercentiles): Percentiles | null =>
  v && v.length === 3 && v.every((x) => x !== null) ? { p50: Math.round(v[0]!), p95: Math.round(v[1]!), p99: Math.round(v[2]!) } : null;

async function inSql(db: HistoryDb, q: ProcessingQuery, from: string, to: string): Promise<ProcessingGroup[]> {
  const key = q.groupBy === 'kind' ? sql<string>`kind` : sql<string>`media_type`;
  const done = sql<number>`sum(case when outcome = 'done' then 1 else 0 end)`;
  const failed = sql<number>`sum(case when outcome = 'failed' then 1 else 0 end)`;
  const durations = sql<PgPercentiles>`percentile_cont(array[0.5, 0.95, 0.99]) within group (order by duration_ms) filter (where outcome = 'done' and duration_ms is not null)`;
  const waits = sql<PgPercentiles>`percentile_cont(array[0.5, 0.95, 0.99]) within group (order by queue_wait_ms) filter (where queue_wait_ms is not null)`;
  const rows = await rawAttempts(db, q, from, to)
    .select([key.as('key'), sql<number>`count(*)`.as('jobs'), done.as('done'), failed.as('failed'), durations.as('durations'), waits.as('waits')])
    .groupBy(key)
    .execute();
  const series = new Map<string, SeriesPoint[]>();
  if (q.interval) {
    const start = q.interval === '1h' ? sql<string>`substr(ended_at, 1, 13) || ':00:00.000Z'` : sql<string>`substr(ended_at, 1, 10) || 'T00:00:00.000Z'`;
    const points = await rawAttempts(db, q, from, to)
      .select([key.as('key'), start.as('start'), sql<number>`count(*)`.as('jobs'), failed.as('failed'), durations.as('durations')])
      .groupBy([key, start])
      .orderBy(start)
      .execute();
    for (const p of points) {
      const d = pct(p.durations);
      const list = series.get(p.key) ?? [];
      list.push({ start: p.start, jobs: num(p.jobs), failed: num(p.failed), p50Ms: d?.p50 ?? null, p95Ms: d?.p95 ?? null });
      series.set(p.key, list);
    }
  }
  return rows.map((r) => ({
    key: r.key,
    jobs: num(r.jobs),
    done: num(r.done),
    failed: num(r.failed),
    failureRate: rate(num(r.failed), num(r.jobs)),
    durationMs: pct(r.durations),
    queueWaitMs: pct(r.waits),
    ...(q.interval && { series: series.get(r.key) ?? [] }),
  }));
}
