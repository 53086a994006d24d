import { sql } from 'kysely';
import { addToHistogram, exactPercentiles, histogramFromJson, histogramPercentiles, mergeHistogram, type Histogram } from './histogram.js';
import { dayRange, MAX_ROWS, num, type HistoryDb } from './db.js';
import { scoped } from './processing.js';
import type { GenerationModel, GenerationReport, OwnerUsage, RangeQuery, UsageDay, UsageReport } from './types.js';

/** Outcomes of attempts that ran (and so called a model): not skipped, not duplicates. */
export const RAN = ['done', 'failed', 'retry', 'postponed'] as const;

/** Kind of the generation processor: its attempts count as model requests even when no model answered. */
const GENERATE_KIND = 'generate';
/** The model of a generation attempt that failed before any answer named one. */
const UNKNOWN_MODEL = 'unknown';

/**
 * `GET /api/analytics/generation`: per model, requests (attempts that ran), failures, tokens and the
 * latency (run time) of done attempts. Percentiles in code on at most {@link MAX_ROWS} raw rows (and
 * the histograms of folded days), on both dialects.
 */
export async function generationReport(db: HistoryDb, q: RangeQuery): Promise<GenerationReport> {
  const from = q.from.toISOString();
  const to = q.to.toISOString();
  const { first, last } = dayRange(q.from, q.to);
  const rows = await scoped(
    db.selectFrom('job_attempts').where('ended_at', '>=', from).where('ended_at', '<', to).where('outcome', 'in', [...RAN])
      .where((eb) => eb.or([eb('kind', '=', GENERATE_KIND), eb('model', 'is not', null)])),
    q.scope,
  ).select(['model', 'outcome', 'duration_ms', 'prompt_tokens', 'completion_tokens']).orderBy('ended_at', 'desc').limit(MAX_ROWS).execute();
  const daily = await scoped(
    db.selectFrom('job_daily').where('day', '>=', first).where('day', '<=', last).where((eb) => eb.or([eb('kind', '=', GENERATE_KIND), eb('model', '!=', '')])),
    q.scope,
  ).select(['model', 'attempts', 'done', 'duration_hist', 'prompt_tokens', 'completion_tokens']).execute();
  const models = new Map<string, { m: GenerationModel; values: number[]; hist: Histogram; folded: boolean }>();
  const of = (model: string | null) => {
    const name = model || UNKNOWN_MODEL;
    let e = models.get(name);
    if (!e) models.set(name, (e = { m: { model: name, requests: 0, failures: 0, promptTokens: 0, completionTokens: 0, latencyMs: null }, values: [], hist: {}, folded: false }));
    return e;
  };
  for (const r of rows) {
    const e = of(r.model);
    e.m.requests++;
    if (r.outcome !== 'done') e.m.failures++;
    else if (r.duration_ms !== null) e.values.push(num(r.duration_ms));
    e.m.promptTokens += num(r.prompt_tokens);
    e.m.completionTokens += num(r.completion_tokens);
  }
  for (const d of daily) {
    const e = of(d.model);
    e.folded = true;
    e.m.requests += num(d.attempts);
    e.m.failures += num(d.attempts) - num(d.done);
    e.m.promptTokens += num(d.prompt_tokens);
    e.m.completionTokens += num(d.completion_tokens);
    mergeHistogram(e.hist, histogramFromJson(d.duration_hist));
  }
  const out = [...models.values()].map(({ m, values, hist, folded }) => {
    if (!folded) return { ...m, latencyMs: exactPercentiles(values) };
    for (const v of values) addToHistogram(hist, v);
    return { ...m, latencyMs: histogramPercentiles(hist) };
  });
  out.sort((a, b) => b.requests - a.requests || a.model.localeCompare(b.model));
  return { from, to, models: out };
}

/**
 * `GET /api/analytics/usage`: finished uploads, their bytes and abandoned (expired unfinished)
 * uploads per day; with `perOwner` (the operator) the same per owner, largest by bytes first
 * (at most `ownerLimit`). Counted in SQL.
 */
export async function usageReport(db: HistoryDb, q: RangeQuery, perOwner: boolean, ownerLimit = 100): Promise<UsageReport> {
  const from = q.from.toISOString();
  const to = q.to.toISOString();
  const { first, last } = dayRange(q.from, q.to);
  const day = sql<string>`substr(at, 1, 10)`;
  const finished = sql<number>`sum(case when event = 'finished' then 1 else 0 end)`;
  const bytes = sql<number>`sum(case when event = 'finished' then bytes else 0 end)`;
  const abandoned = sql<number>`sum(case when event = 'abandoned' then 1 else 0 end)`;
  const raw = () => scoped(db.selectFrom('upload_usage').where('at', '>=', from).where('at', '<', to), q.scope);
  const folded = () => scoped(db.selectFrom('usage_daily').where('day', '>=', first).where('day', '<=', last), q.scope);
  const days = new Map<string, UsageDay>();
  const addDay = (d: string, u: number, b: number, a: number) => {
    const e = days.get(d) ?? { day: d, uploads: 0, bytes: 0, abandoned: 0 };
    e.uploads += u;
    e.bytes += b;
    e.abandoned += a;
    days.set(d, e);
  };
  for (const r of await raw().select([day.as('day'), finished.as('uploads'), bytes.as('bytes'), abandoned.as('abandoned')]).groupBy(day).execute()) {
    addDay(r.day, num(r.uploads), num(r.bytes), num(r.abandoned));
  }
  for (const r of await folded().select(['day', 'uploads', 'bytes', 'abandoned']).execute()) addDay(r.day, num(r.uploads), num(r.bytes), num(r.abandoned));
  const report: UsageReport = { from, to, days: [...days.values()].sort((a, b) => a.day.localeCompare(b.day)) };
  if (!perOwner) return report;
  const owners = new Map<string, OwnerUsage>();
  const addOwner = (tenant: string, owner: string, u: number, b: number, a: number) => {
    const k = JSON.stringify([tenant, owner]);
    const e = owners.get(k) ?? { tenant, owner, uploads: 0, bytes: 0, abandoned: 0 };
    e.uploads += u;
    e.bytes += b;
    e.abandoned += a;
    owners.set(k, e);
  };
  for (const r of await raw().select(['tenant', 'owner', finished.as('uploads'), bytes.as('bytes'), abandoned.as('abandoned')]).groupBy(['tenant', 'owner']).execute()) {
    addOwner(r.tenant, r.owner, num(r.uploads), num(r.bytes), num(r.abandoned));
  }
  const foldedOwners = await folded()
    .select(['tenant', 'owner', sql<number>`sum(uploads)`.as('uploads'), sql<number>`sum(bytes)`.as('bytes'), sql<number>`sum(abandoned)`.as('abandoned')])
    .groupBy(['tenant', 'owner'])
    .execute();
  for (const r of foldedOwners) addOwner(r.tenant, r.owner, num(r.uploads), num(r.bytes), num(r.abandoned));
  report.owners = [...owners.values()].sort((a, b) => b.bytes - a.bytes || b.uploads - a.uploads).slice(0, ownerLimit);
  return report;
}

