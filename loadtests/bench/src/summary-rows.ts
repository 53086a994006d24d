/**
 * The file harness's rows of the summary table (summary.ts): one per scenario (a)–(e) and target
 * measured, read against the same baselines as report.ts (ours and stock against the file sink, the
 * file sink against /dev/null, ours against stock) and carrying report.ts's goal verdicts.
 */
import type { BenchConfig, ScenarioId } from './config.js';
import type { Results, Verdict } from './report.js';
import { gib, type Sample } from './scenarios.js';
import { f2, median, percentile } from './stats.js';
import type { SummaryRow } from './summary.js';
import type { Role, TargetSpec } from './targets.js';

/** The limit each role is read against in the upload scenarios (the /dev/null sink is the last one). */
const LIMIT_OF: Partial<Record<Role, { role: Role; name: string }>> = {
  ours: { role: 'file-sink', name: 'file sink' },
  stock: { role: 'file-sink', name: 'file sink' },
  'file-sink': { role: 'discard-sink', name: '/dev/null' },
  'durable-sink': { role: 'file-sink', name: 'file sink' },
};

const rates = (xs: Sample[]) => xs.map((x) => x.rate);

export function fileSummaryRows(cfg: BenchConfig, specs: TargetSpec[], results: Results, verdicts: Verdict[]): SummaryRow[] {
  const titles: Record<ScenarioId, string> = {
    a: `(a) ${cfg.sizeMiB} MiB in one PATCH`,
    b: `(b) ${cfg.sizeMiB} MiB in ${cfg.chunkMiB} MiB PATCHes`,
    c: `(c) ${cfg.repeat}× (b) on one instance`,
    d: `(d) ${cfg.concurrency} × ${cfg.concSizeMiB} MiB at once, ${cfg.concChunkMiB} MiB PATCHes`,
    e: `(e) creation, ${cfg.postConcurrency} POSTs in flight`,
  };
  const rows: SummaryRow[] = [];
  for (const id of cfg.scenarios) {
    const byTarget: Map<string, Sample[] | null> | undefined = id === 'c' ? results.repeats : results.rounds.get(id);
    if (!byTarget) continue;
    const baseline = (role: Role) => {
      const t = specs.find((x) => x.role === role);
      const xs = t && byTarget.get(t.id);
      return xs?.length ? median(rates(xs)) : NaN;
    };
    const upload = id !== 'e';
    for (const t of specs) {
      const xs = byTarget.get(t.id);
      if (!xs?.length) continue; // not run here, or n/a (the sinks create nothing)
      const m = median(rates(xs));
      const limit = upload ? LIMIT_OF[t.role] : undefined;
      const lat = xs.flatMap((x) => x.latMs);
      const goals = verdicts.filter((v) => v.scenario === id && v.target === t.label);
      rows.push({
        scenario: titles[id],
        target: t.label,
        rates: rates(xs),
        unit: upload ? 'MiB/s' : 'POST/s',
        vsLimit: limit && { ratio: m / baseline(limit.role), limit: limit.name },
        vsStock: t.role === 'ours' ? m / baseline('stock') : undefined,
        // (a) sends one PATCH per upload: its latency is the upload itself.
        latencyMs: id !== 'a' && lat.length ? { p50: percentile(lat, 50), p99: percentile(lat, 99) } : undefined,
        peakRssMiB: Math.max(...xs.map((x) => x.peakRssMiB)),
        cpuSPerGiB: upload ? median(xs.map((x) => (x.userS + x.sysS) / gib(x))) : undefined,
        verdict: goals.length ? goals.map((v) => `${v.met ? 'met' : 'MISSED'} ${v.goal}`).join('; ') : undefined,
        note: id === 'c' ? `last/first ${f2(xs[xs.length - 1].rate / xs[0].rate)}`
          // FSYNC=true flushes every PATCH, as the durable sink flushes every body: that is its own limit.
          : upload && t.id === 'ours-fsync' && Number.isFinite(baseline('durable-sink')) ? `${f2(m / baseline('durable-sink'))}× the sink + fdatasync`
          : undefined,
      });
    }
  }
  return rows;
}
