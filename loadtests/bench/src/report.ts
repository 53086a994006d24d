/**
 * The printed report: one table per scenario, each with its goal beside our rows, and a closing
 * summary of the goals. Goals are reported, never asserted: the exit code does not depend on them.
 */
import type { BenchConfig, ScenarioId } from './config.js';
import { gib, type Sample } from './scenarios.js';
import { f0, f1, f2, median, p50p99, ratio, spread, table } from './stats.js';
import type { Role, TargetSpec } from './targets.js';

/** Measured runs per scenario and target id; `null` = the target cannot run the scenario (n/a). */
export type RoundResults = Map<ScenarioId, Map<string, Sample[] | null>>;

export interface Results {
  rounds: RoundResults;
  /** (c): each back-to-back run, in order, per target id. */
  repeats: Map<string, Sample[]>;
}

/** A goal's verdict for one of our rows. */
export interface Verdict {
  scenario: ScenarioId;
  target: string;
  goal: string;
  measured: string;
  met: boolean;
}

const rates = (xs: Sample[]) => xs.map((x) => x.rate);
/** `start → peak` RSS in MiB: the lowest starting RSS and the highest peak over the runs. */
const rss = (xs: Sample[]) => {
  const start = Math.min(...xs.map((x) => x.startRssMiB));
  const peak = f0(Math.max(...xs.map((x) => x.peakRssMiB)));
  return Number.isFinite(start) ? `${f0(start)} → ${peak}` : peak;
};
const cpuPerGiB = (xs: Sample[]) => `${f1(median(xs.map((x) => x.userS / gib(x))))}+${f1(median(xs.map((x) => x.sysS / gib(x))))}`;
const faultsPerGiB = (xs: Sample[]) => f0(median(xs.map((x) => x.faults / gib(x))));

/** `met` / `MISSED`, with the value against the goal and, when missed, the shortfall. */
function verdictText(value: number, goal: number, fmt: (x: number) => string, higherIsBetter = true): { met: boolean; text: string } {
  const met = higherIsBetter ? value >= goal : value <= goal;
  if (met) return { met, text: `met (${fmt(value)})` };
  const short = higherIsBetter ? 1 - value / goal : value / goal - 1;
  return { met, text: `MISSED (${fmt(value)}, ${f0(short * 100)} % ${higherIsBetter ? 'short' : 'over'})` };
}

const times = (x: number) => `${f2(x)}×`;
const mib = (x: number) => `${f0(x)} MiB`;

/** Builds every table of the report for the scenarios in `cfg`, in order, and the goal verdicts. */
export function report(cfg: BenchConfig, specs: TargetSpec[], results: Results): { text: string; verdicts: Verdict[] } {
  const verdicts: Verdict[] = [];
  const out: string[] = [];
  const samples = (s: ScenarioId, t: TargetSpec) => results.rounds.get(s)?.get(t.id);
  /** Median rate of the first target with `role` in scenario `s` (NaN when not measured). */
  const baseline = (s: ScenarioId, role: Role) => {
    const t = specs.find((x) => x.role === role);
    const xs = t ? samples(s, t) : undefined;
    return xs?.length ? median(rates(xs)) : NaN;
  };
  const judge = (s: ScenarioId, t: TargetSpec, goal: string, measured: number, threshold: number, fmt: (x: number) => string, higherIsBetter = true) => {
    // Without its baseline (say BENCH_TARGETS left the sink out) a goal has no verdict.
    if (!Number.isFinite(measured)) return 'n/a (baseline not measured)';
    const v = verdictText(measured, threshold, fmt, higherIsBetter);
    verdicts.push({ scenario: s, target: t.label, goal, measured: fmt(measured), met: v.met });
    return v.text;
  };

  /** (a), (b), (d): throughput tables read against the file sink. */
  const throughput = (s: ScenarioId, title: string, goalRatio: number, withLatency: boolean, rssGoalMiB?: number) => {
    if (!results.rounds.has(s)) return;
    const goal = `≥ ${f2(goalRatio)}× file sink${rssGoalMiB ? `, peak RSS ≤ ${rssGoalMiB} MiB` : ''}`;
    const rows = [[
      'target', 'MiB/s median (min–max)', 'vs file sink', 'vs /dev/null', 'vs stock',
      ...(withLatency ? ['PATCH p50/p99 ms'] : []),
      'server CPU s/GiB user+sys', 'page faults/GiB', 'RSS start → peak MiB', `goal: ${goal}`,
    ]];
    for (const t of specs) {
      const xs = samples(s, t);
      if (xs === undefined) continue;
      if (xs === null || xs.length === 0) {
        rows.push([t.label, 'n/a', ...Array<string>(rows[0].length - 2).fill('')]);
        continue;
      }
      const m = median(rates(xs));
      let goalCell = '';
      if (t.role === 'ours') {
        goalCell = judge(s, t, `≥ ${f2(goalRatio)}× file sink`, m / baseline(s, 'file-sink'), goalRatio, times);
        if (rssGoalMiB) {
          const peak = Math.max(...xs.map((x) => x.peakRssMiB));
          goalCell += `; RSS ${judge(s, t, `peak RSS ≤ ${rssGoalMiB} MiB`, peak, rssGoalMiB, mib, false)}`;
        }
      }
      rows.push([
        t.label, spread(rates(xs)), ratio(m, baseline(s, 'file-sink')), ratio(m, baseline(s, 'discard-sink')),
        ratio(m, baseline(s, 'stock')),
        ...(withLatency ? [p50p99(xs.flatMap((x) => x.latMs))] : []),
        cpuPerGiB(xs), faultsPerGiB(xs), rss(xs), goalCell,
      ]);
    }
    out.push(`\n${title}\n\n${table(rows)}`);
  };

  const runsNote = `${cfg.runs} measured run${cfg.runs > 1 ? 's' : ''} after 1 warm-up`;
  throughput('a', `(a) ${cfg.sizeMiB} MiB in one PATCH (sinks: one PUT), ${runsNote}`, 0.9, false);
  throughput('b', `(b) ${cfg.sizeMiB} MiB in ${cfg.chunkMiB} MiB PATCHes, ${runsNote}`, 0.8, true);

  if (results.repeats.size > 0) {
    const goal = 'last ≥ 0.95× first';
    // Background load moves MiB/s; the server's own CPU per GiB and its RSS do not, so a drift in
    // those (first 3 runs → last 3) is what tells a slowing server from a busy machine.
    const rows = [['target (one long-lived instance)', 'MiB/s per run, in order', 'first', 'last', 'last/first',
      'median of last 3 / first 3', 'CPU s/GiB first 3 → last 3', 'peak RSS MiB first → last', `goal: ${goal}`]];
    for (const [id, series] of results.repeats) {
      const t = specs.find((x) => x.id === id);
      if (!t || series.length === 0) continue;
      const v = rates(series);
      const first = v[0];
      const last = v[v.length - 1];
      const cpu = (xs: Sample[]) => f2(median(xs.map((x) => (x.userS + x.sysS) / gib(x))));
      const goalCell = t.role === 'ours' && v.length === cfg.repeat ? judge('c', t, goal, last / first, 0.95, times) : '';
      rows.push([t.label, v.map(f0).join(' '), f0(first), f0(last), f2(last / first),
        f2(median(v.slice(-3)) / median(v.slice(0, 3))),
        `${cpu(series.slice(0, 3))} → ${cpu(series.slice(-3))}`,
        `${f0(series[0].peakRssMiB)} → ${f0(series[series.length - 1].peakRssMiB)}`, goalCell]);
    }
    out.push(`\n(c) ${cfg.repeat} back-to-back runs of ${cfg.sizeMiB} MiB in ${cfg.chunkMiB} MiB PATCHes, one instance each\n\n${table(rows)}`);
  }

  throughput('d', `(d) ${cfg.concurrency} concurrent uploads of ${cfg.concSizeMiB} MiB in ${cfg.concChunkMiB} MiB PATCHes ` +
    `(aggregate MiB/s over ${f0((cfg.concurrency * cfg.concSizeMiB))} MiB), ${runsNote}`, 0.7, true, 200);

  if (results.rounds.has('e')) {
    const goal = '≥ 2.00× stock';
    const rows = [['target', 'POST/s median (min–max)', 'POST p50/p99 ms', 'vs stock', 'server CPU ms/1000 POST user+sys',
      'RSS start → peak MiB', `goal: ${goal}`]];
    const stock = baseline('e', 'stock');
    for (const t of specs) {
      const xs = samples('e', t);
      if (xs === undefined) continue;
      if (xs === null || xs.length === 0) {
        rows.push([t.label, 'n/a (no creation)', '', '', '', '', '']);
        continue;
      }
      const m = median(rates(xs));
      const perK = (k: 'userS' | 'sysS') => f0(median(xs.map((x) => (x[k] * 1000 * 1000) / x.work)));
      rows.push([t.label, spread(rates(xs)), p50p99(xs.flatMap((x) => x.latMs)), ratio(m, stock), `${perK('userS')}+${perK('sysS')}`, rss(xs),
        t.role === 'ours' ? judge('e', t, goal, m / stock, 2, times) : '']);
    }
    out.push(`\n(e) upload creation: ${cfg.posts} POSTs per run, ${cfg.postConcurrency} in flight, ${runsNote}\n\n${table(rows)}`);
  }

  if (verdicts.length) {
    const rows = [['scenario', 'target', 'goal', 'measured', 'verdict']];
    for (const v of verdicts) rows.push([`(${v.scenario})`, v.target, v.goal, v.measured, v.met ? 'met' : 'MISSED']);
    out.push(`\nGoals (reported, never asserted)\n\n${table(rows)}`);
  }
  return { text: out.join('\n'), verdicts };
}
