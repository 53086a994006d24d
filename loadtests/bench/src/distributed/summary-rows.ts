/**
 * The distributed harness's rows of the summary table (../summary.ts), read as its section tables
 * read them: section 1 against the best direct SDK row and stock with the same PATCH size, section 2
 * with the lock goal, section 3 against stock on the same storage and (on S3) the direct S3 calls.
 */
import { median, percentile } from '../stats.js';
import { latencyText, type SummaryRow } from '../summary.js';
import { CREATE_CONCURRENCIES, type CreateResults } from './creation.js';
import { LOCK_GOAL, lockVerdict, type LockResults } from './locks.js';
import { OURS_GOAL_VS_DIRECT, type S3Results, type S3Row } from './s3-throughput.js';

const p50p99 = (ms: number[]) => (ms.length ? { p50: percentile(ms, 50), p99: percentile(ms, 99) } : undefined);
const defined = (xs: Array<number | undefined>) => xs.filter((x): x is number => x !== undefined);

/** Section 1: one row per S3 row that ran (or failed). */
export function s3SummaryRows(results: S3Results, rows: readonly S3Row[]): SummaryRow[] {
  const med = (id: string) => median((results.samples.get(id) ?? []).map((s) => s.mibps));
  const direct = rows.filter((r) => r.role === 'direct' && Number.isFinite(med(r.id)));
  const limit = direct.reduce<S3Row | undefined>((best, r) => (best && med(best.id) >= med(r.id) ? best : r), undefined);
  const gib = results.sizeMiB / 1024;
  return rows.flatMap((r): SummaryRow[] => {
    const xs = results.samples.get(r.id) ?? [];
    const err = results.errors.get(r.id);
    if (!xs.length && !err) return [];
    const m = med(r.id);
    const vsLimit = limit && r !== limit ? m / med(limit.id) : undefined;
    const stock = r.role === 'ours' ? rows.find((x) => x.role === 'stock' && x.chunk === r.chunk) : undefined;
    const peaks = defined(xs.map((s) => s.peakRssMiB));
    const cpu = defined(xs.map((s) => s.serverCpuS));
    return [{
      scenario: `(S3) ${results.sizeMiB} MiB tus → S3`,
      target: r.label,
      rates: xs.map((s) => s.mibps),
      unit: 'MiB/s',
      vsLimit: vsLimit === undefined ? undefined : { ratio: vsLimit, limit: 'direct SDK' },
      vsStock: stock ? m / med(stock.id) : undefined,
      latencyMs: p50p99(xs.flatMap((s) => s.patchMs ?? [])),
      peakRssMiB: peaks.length ? Math.max(...peaks) : undefined,
      cpuSPerGiB: cpu.length ? median(cpu) / gib : undefined,
      verdict: r.role === 'ours' && vsLimit !== undefined && Number.isFinite(vsLimit)
        ? `${vsLimit >= OURS_GOAL_VS_DIRECT ? 'met' : 'MISSED'} ${r.goal}` : undefined,
      note: err ? `FAILED: ${err.slice(0, 80)}` : undefined,
    }];
  });
}

/** Section 2: one row per locker; the latency column holds acquire+release of distinct ids. */
export function lockSummaryRows(results: LockResults): SummaryRow[] {
  const toMs = (us: number[] | undefined) => (us ?? []).map((x) => x / 1000);
  const text = (ms: number[]) => {
    const v = p50p99(ms);
    return v ? `${latencyText(v)} ms` : 'n/a';
  };
  return results.rows.map((r) => ({
    scenario: `(locks) acquire+release, N=${results.n}`,
    target: r.label,
    latencyMs: p50p99(toMs(r.distinct)),
    verdict: r.hasGoal ? `${lockVerdict(r)} ${LOCK_GOAL}` : undefined,
    note: `same id ${text(toMs(r.same))}; handover ${text(r.handover ?? [])}, ${r.handoverKind}`,
  }));
}

/** Section 3: one row per target and concurrency. */
export function createSummaryRows(results: CreateResults): SummaryRow[] {
  const idOf = (storage: string, role: string) => [...results.labels].find(([, v]) => v.storage === storage && v.role === role)?.[0];
  return CREATE_CONCURRENCIES.flatMap((c) =>
    [...results.labels].flatMap(([id, { label, storage, role }]): SummaryRow[] => {
      const s = results.samples.get(`${id}@${c}`);
      if (!s) return [];
      const other = (r: string) => {
        const otherId = idOf(storage, r);
        return otherId ? results.samples.get(`${otherId}@${c}`) : undefined;
      };
      const direct = role === 'direct' ? undefined : other('direct');
      const stock = role === 'ours' ? other('stock') : undefined;
      return [{
        scenario: `(create) POST, ${c} in flight, ${results.seconds} s`,
        target: label,
        rates: [s.perSecond],
        unit: 'POST/s',
        vsLimit: direct && { ratio: s.perSecond / direct.perSecond, limit: 'direct SDK calls' },
        vsStock: stock && s.perSecond / stock.perSecond,
        latencyMs: p50p99(s.ms),
        note: s.errors ? `${s.errors} errors: ${s.firstError?.slice(0, 60)}` : undefined,
      }];
    }),
  );
}
