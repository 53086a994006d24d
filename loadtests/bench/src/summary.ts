/**
 * The one table `npm run bench` ends with: a row per (scenario, target) of both harnesses (the file
 * scenarios (a)–(e) of main.ts; the S3, lock and creation sections of distributed/run.ts) in uniform
 * columns, blank where a column does not apply. Each harness turns its own results into
 * {@link SummaryRow}s (summary-rows.ts, distributed/summary-rows.ts); this module renders them. No I/O.
 */
import { f0, f1, f2, spread, table } from './stats.js';

export interface SummaryRow {
  /** e.g. `(b) 1024 MiB in 8 MiB PATCHes`; rows of one scenario are adjacent. */
  scenario: string;
  target: string;
  /** One rate per measured run, in `unit`. */
  rates?: number[];
  unit?: 'MiB/s' | 'POST/s';
  /** Median rate over the median of the raw limit named (`file sink`, `/dev/null`, `direct SDK`...). */
  vsLimit?: { ratio: number; limit: string };
  /** Median rate over stock @tus/server's median in the same scenario. */
  vsStock?: number;
  /** p50 and p99 of the timed requests, ms: PATCH (uploads), POST (creation), acquire+release (locks). */
  latencyMs?: { p50: number; p99: number };
  /** Peak RSS of the server process during the timed runs, MiB. */
  peakRssMiB?: number;
  /** Server CPU (user+system) per GiB uploaded, s. */
  cpuSPerGiB?: number;
  /** Goal and verdict, e.g. `met ≥ 0.90× file sink`; absent for rows without a goal. */
  verdict?: string;
  note?: string;
}

/** What a harness's `done` resolves with. */
export interface HarnessOutcome {
  summary: SummaryRow[];
  /** The watchdog (BENCH_TIMEOUT_S) stopped the harness: the rows are partial. */
  timedOut: boolean;
}

const HEADER = [
  'scenario', 'target', 'MiB/s or POST/s median (min–max)', 'vs limit', 'vs stock', 'p50/p99 ms', 'peak RSS MiB',
  'server CPU s/GiB', 'goal verdict', 'note',
];

/** `f(x)` for a finite x, else a blank cell. */
const cell = (x: number | undefined, f: (x: number) => string) => (x !== undefined && Number.isFinite(x) ? f(x) : '');
const ms = (x: number) => (x < 1 ? x.toFixed(3) : x < 10 ? f2(x) : f1(x));
/** `p50 / p99` in ms, with more decimals below 10 ms. */
export const latencyText = (l: { p50: number; p99: number }): string => `${ms(l.p50)} / ${ms(l.p99)}`;

/** The summary table, with its title and a legend of the columns. */
export function renderSummary(rows: SummaryRow[]): string {
  const lines = rows.map(({ vsLimit, ...r }) => [
    r.scenario,
    r.target,
    r.rates?.length ? `${spread(r.rates)} ${r.unit ?? ''}`.trimEnd() : '',
    vsLimit ? cell(vsLimit.ratio, (x) => `${f2(x)}× ${vsLimit.limit}`) : '',
    cell(r.vsStock, (x) => `${f2(x)}×`),
    r.latencyMs ? latencyText(r.latencyMs) : '',
    cell(r.peakRssMiB, f0),
    cell(r.cpuSPerGiB, f2),
    r.verdict ?? '',
    r.note ?? '',
  ]);
  return [
    'SUMMARY: every scenario and target of this run; median (min–max) over the measured runs after a warm-up, ratios median/median',
    '',
    table([HEADER, ...lines]),
    '',
    'vs limit: the raw limit named: file sink / /dev/null = a bare node:http server piping the body to a file / to /dev/null ' +
      '(the file sink + fdatasync flushes each body before answering, as FSYNC=true does: its ratio is in the note); ' +
      'direct SDK = @aws-sdk/lib-storage multipart Upload to the same S3 (its best setting), direct SDK calls = the S3 calls of one creation.',
    'p50/p99: PATCH latency for uploads (blank for one-PATCH uploads: that is the whole upload), POST for creation, ' +
      'acquire+release for locks. Peak RSS and CPU: the server process(es) during the timed runs (local stack: its nodes, ' +
      'highest RSS and summed CPU; nginx not counted). Blank: does not apply.',
  ].join('\n');
}
