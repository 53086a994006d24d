import { addToHistogram, exactPercentiles, histogramFromJson, histogramPercentiles, histogramToJson, mergeHistogram, type Histogram } from './histogram.js';
import { addMetrics, dayOf, num, startOfDay, type HistoryDb } from './db.js';
import { RAN } from './usage.js';
import type { DailyReport, RollupSummary } from './types.js';

/** Raw rows folded per transaction: a killed run leaves whole pages folded or not at all. */
const PAGE = 2000;

interface DailyAcc {
  day: string; tenant: string; owner: string; kind: string; media_type: string; model: string;
  attempts: number; done: number; failed: number; duration: Histogram; wait: Histogram;
  prompt: number; completion: number; metrics: Record<string, number>;
}

/**
 * Folds raw attempts and usage events that ended before the start of `before`'s day into `job_daily`
 * and `usage_daily`, a page at a time: each page is added to its daily rows and deleted in one
 * transaction, so nothing is counted twice or lost whatever stops a run. Late rows of a day already
 * folded are added to its daily rows.
 */
export async function rollup(db: HistoryDb, before: Date): Promise<RollupSummary> {
  const cutoff = startOfDay(before).toISOString();
  const days = new Set<string>();
  let attempts = 0;
  let usageEvents = 0;
  for (;;) {
    const folded = await db.transaction().execute(async (trx) => {
      const rows = await trx.selectFrom('job_attempts').selectAll().where('ended_at', '<', cutoff).orderBy('ended_at').orderBy('id').limit(PAGE).execute();
      if (rows.length === 0) return 0;
      const accs = new Map<string, DailyAcc>();
      for (const r of rows) {
        const day = dayOf(r.ended_at);
        days.add(day);
        const key = JSON.stringify([day, r.tenant, r.owner, r.kind, r.media_type, r.model ?? '']);
        let a = accs.get(key);
        if (!a) {
          a = { day, tenant: r.tenant, owner: r.owner, kind: r.kind, media_type: r.media_type, model: r.model ?? '', attempts: 0, done: 0, failed: 0, duration: {}, wait: {}, prompt: 0, completion: 0, metrics: {} };
          accs.set(key, a);
        }
        if ((RAN as readonly string[]).includes(r.outcome)) a.attempts++;
        if (r.outcome === 'done') {
          a.done++;
          if (r.duration_ms !== null) addToHistogram(a.duration, num(r.duration_ms));
        }
        if (r.outcome === 'failed') a.failed++;
        if ((r.outcome === 'done' || r.outcome === 'failed') && r.queue_wait_ms !== null) addToHistogram(a.wait, num(r.queue_wait_ms));
        a.prompt += num(r.prompt_tokens);
        a.completion += num(r.completion_tokens);
        addMetrics(a.metrics, r.metrics);
      }
      for (const a of accs.values()) {
        const where = { day: a.day, tenant: a.tenant, owner: a.owner, kind: a.kind, media_type: a.media_type, model: a.model };
        const existing = await trx.selectFrom('job_daily').selectAll()
          .where('day', '=', a.day).where('tenant', '=', a.tenant).where('owner', '=', a.owner)
          .where('kind', '=', a.kind).where('media_type', '=', a.media_type).where('model', '=', a.model)
          .executeTakeFirst();
        const values = {
          attempts: a.attempts + num(existing?.attempts),
          done: a.done + num(existing?.done),
          failed: a.failed + num(existing?.failed),
          duration_hist: histogramToJson(mergeHistogram(a.duration, histogramFromJson(existing?.duration_hist))),
          wait_hist: histogramToJson(mergeHistogram(a.wait, histogramFromJson(existing?.wait_hist))),
          prompt_tokens: a.prompt + num(existing?.prompt_tokens),
          completion_tokens: a.completion + num(existing?.completion_tokens),
          metrics: JSON.stringify(addMetrics(a.metrics, existing?.metrics)),
        };
        if (existing) {
          await trx.updateTable('job_daily').set(values)
            .where('day', '=', a.day).where('tenant', '=', a.tenant).where('owner', '=', a.owner)
            .where('kind', '=', a.kind).where('media_type', '=', a.media_type).where('model', '=', a.model)
            .execute();
        } else await trx.insertInto('job_daily').values({ ...where, ...values }).execute();
      }
      await trx.deleteFrom('job_attempts').where('id', 'in', rows.map((r) => r.id)).execute();
      return rows.length;
    });
    if (folded === 0) break;
    attempts += folded;
  }
  for (;;) {
    const folded = await db.transaction().execute(async (trx) => {
      const rows = await trx.selectFrom('upload_usage').selectAll().where('at', '<', cutoff).orderBy('at').orderBy('upload_id').limit(PAGE).execute();
      if (rows.length === 0) return 0;
      const accs = new Map<string, { day: string; tenant: string; owner: string; uploads: number; bytes: number; abandoned: number }>();
      for (const r of rows) {
        const day = dayOf(r.at);
        days.add(day);
        const key = JSON.stringify([day, r.tenant, r.owner]);
        const a = accs.get(key) ?? { day, tenant: r.tenant, owner: r.owner, uploads: 0, bytes: 0, abandoned: 0 };
        if (r.event === 'finished') {
          a.uploads++;
          a.bytes += num(r.bytes);
        } else a.abandoned++;
        accs.set(key, a);
      }
      for (const a of accs.values()) {
        const existing = await trx.selectFrom('usage_daily').selectAll().where('day', '=', a.day).where('tenant', '=', a.tenant).where('owner', '=', a.owner).executeTakeFirst();
        const values = { uploads: a.uploads + num(existing?.uploads), bytes: a.bytes + num(existing?.bytes), abandoned: a.abandoned + num(existing?.abandoned) };
        if (existing) await trx.updateTable('usage_daily').set(values).where('day', '=', a.day).where('tenant', '=', a.tenant).where('owner', '=', a.owner).execute();
        else await trx.insertInto('usage_daily').values({ day: a.day, tenant: a.tenant, owner: a.owner, ...values }).execute();
      }
      await trx.deleteFrom('upload_usage').where('upload_id', 'in', rows.map((r) => r.upload_id)).execute();
      return rows.length;
    });
    if (folded === 0) break;
    usageEvents += folded;
  }
  return { days: [...days].sort(), attempts, usageEvents };
}

/** One day's report per kind (raw rows and daily rows of that day together) and its upload usage. */
export async function dailyReport(db: HistoryDb, day: string): Promise<DailyReport> {
  const start = `${day}T00:00:00.000Z`;
  const end = new Date(Date.parse(start) + 86_400_000).toISOString();
  type K = { attempts: number; done: number; failed: number; durations: number[]; waits: number[]; dHist: Histogram; wHist: Histogram; folded: boolean; prompt: number; completion: number; metrics: Record<string, number> };
  const kinds = new Map<string, K>();
  const of = (kind: string) => {
    let k = kinds.get(kind);
    if (!k) kinds.set(kind, (k = { attempts: 0, done: 0, failed: 0, durations: [], waits: [], dHist: {}, wHist: {}, folded: false, prompt: 0, completion: 0, metrics: {} }));
    return k;
  };
  const raw = await db.selectFrom('job_attempts').where('ended_at', '>=', start).where('ended_at', '<', end)
    .select(['kind', 'outcome', 'duration_ms', 'queue_wait_ms', 'prompt_tokens', 'completion_tokens', 'metrics']).execute();
  for (const r of raw) {
    const k = of(r.kind);
    if ((RAN as readonly string[]).includes(r.outcome)) k.attempts++;
    if (r.outcome === 'done') {
      k.done++;
      if (r.duration_ms !== null) k.durations.push(num(r.duration_ms));
    }
    if (r.outcome === 'failed') k.failed++;
    if ((r.outcome === 'done' || r.outcome === 'failed') && r.queue_wait_ms !== null) k.waits.push(num(r.queue_wait_ms));
    k.prompt += num(r.prompt_tokens);
    k.completion += num(r.completion_tokens);
    addMetrics(k.metrics, r.metrics);
  }
  for (const d of await db.selectFrom('job_daily').selectAll().where('day', '=', day).execute()) {
    const k = of(d.kind);
    k.folded = true;
    k.attempts += num(d.attempts);
    k.done += num(d.done);
    k.failed += num(d.failed);
    mergeHistogram(k.dHist, histogramFromJson(d.duration_hist));
    mergeHistogram(k.wHist, histogramFromJson(d.wait_hist));
    k.prompt += num(d.prompt_tokens);
    k.completion += num(d.completion_tokens);
    addMetrics(k.metrics, d.metrics);
  }
  const pcts = (values: number[], hist: Histogram, folded: boolean) => {
    if (!folded) return exactPercentiles(values);
    for (const v of values) addToHistogram(hist, v);
    return histogramPercentiles(hist);
  };
  const usageRaw = await db.selectFrom('upload_usage').where('at', '>=', start).where('at', '<', end).select(['event', 'bytes']).execute();
  const usage = { uploads: 0, bytes: 0, abandoned: 0 };
  for (const u of usageRaw) {
    if (u.event === 'finished') {
      usage.uploads++;
      usage.bytes += num(u.bytes);
    } else usage.abandoned++;
  }
  for (const u of await db.selectFrom('usage_daily').selectAll().where('day', '=', day).execute()) {
    usage.uploads += num(u.uploads);
    usage.bytes += num(u.bytes);
    usage.abandoned += num(u.abandoned);
  }
  return {
    day,
    kinds: [...kinds].sort(([a], [b]) => a.localeCompare(b)).map(([kind, k]) => ({
      kind,
      attempts: k.attempts,
      done: k.done,
      failed: k.failed,
      failureRate: k.done + k.failed === 0 ? 0 : Math.round((k.failed / (k.done + k.failed)) * 1000) / 1000,
      durationMs: pcts(k.durations, k.dHist, k.folded),
      queueWaitMs: pcts(k.waits, k.wHist, k.folded),
      promptTokens: k.prompt,
      completionTokens: k.completion,
      metrics: k.metrics,
    })),
    usage,
  };
}

/** The report as CSV: one line per kind, then the usage line. */
export function reportCsv(report: DailyReport): string {
  const lines = ['day,kind,attempts,done,failed,failure_rate,duration_p50_ms,duration_p95_ms,duration_p99_ms,queue_wait_p50_ms,queue_wait_p95_ms,queue_wait_p99_ms,prompt_tokens,completion_tokens'];
  const cell = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v));
  for (const k of report.kinds) {
    lines.push([report.day, csvText(k.kind), k.attempts, k.done, k.failed, k.failureRate, cell(k.durationMs?.p50), cell(k.durationMs?.p95), cell(k.durationMs?.p99),
      cell(k.queueWaitMs?.p50), cell(k.queueWaitMs?.p95), cell(k.queueWaitMs?.p99), k.promptTokens, k.completionTokens].join(','));
  }
  lines.push('', 'day,uploads,bytes,abandoned', [report.day, report.usage.uploads, report.usage.bytes, report.usage.abandoned].join(','));
  return `${lines.join('\n')}\n`;
}

function csvText(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
