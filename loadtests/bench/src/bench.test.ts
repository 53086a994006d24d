import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { benchConfig } from './config.js';
import { report, type Results } from './report.js';
import type { Sample } from './scenarios.js';
import { median, percentile, spread, table } from './stats.js';
import { renderSummary, type SummaryRow } from './summary.js';
import { fileSummaryRows } from './summary-rows.js';
import { TARGETS } from './targets.js';

const sample = (rate: number, extra: Partial<Sample> = {}): Sample => ({
  rate, latMs: [10, 20], work: 1024 ** 3, userS: 0.5, sysS: 0.5, faults: 100, startRssMiB: 80, peakRssMiB: 120, ...extra,
});

describe('bench statistics', () => {
  it('median, nearest-rank percentile, spread and tables', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
    expect(spread([500, 400, 600])).toBe('500 (400–600)');
    expect(spread([])).toBe('n/a');
    expect(table([['a', 'bb'], ['ccc', 'd']])).toBe('a   | bb\n----+---\nccc | d');
  });
});

describe('bench config', () => {
  it('defaults fit the issue: every scenario, 1 GiB, 3 runs, 20 repeats, 64×16 MiB, c=32, all targets', () => {
    const cfg = benchConfig({});
    expect(cfg).toMatchObject({
      scenarios: ['a', 'b', 'c', 'd', 'e'], sizeMiB: 1024, runs: 3, repeat: 20, chunkMiB: 8, concurrency: 64,
      concSizeMiB: 16, concChunkMiB: 4, postConcurrency: 32, prewarm: true,
    });
    expect(cfg.targets).toEqual(TARGETS.map((t) => t.id));
    expect(cfg.timeoutS).toBeLessThanOrEqual(15 * 60);
  });

  it('selects scenarios by letter or name; BENCH_REPEAT=0 drops (c); rejects unknown names', () => {
    expect(benchConfig({ BENCH_SCENARIOS: 'single, create' }).scenarios).toEqual(['a', 'e']);
    expect(benchConfig({ BENCH_SCENARIOS: 'b,c', BENCH_REPEAT: '0' }).scenarios).toEqual(['b']);
    expect(() => benchConfig({ BENCH_SCENARIOS: 'z' })).toThrow(/BENCH_SCENARIOS: unknown entry "z"/);
    expect(() => benchConfig({ BENCH_TARGETS: 'sink,nope' })).toThrow(/BENCH_TARGETS/);
    expect(() => benchConfig({ BENCH_RUNS: '0' })).toThrow(/BENCH_RUNS="0" must be an integer >= 1/);
  });
});

describe('bench report', () => {
  it('reads goals against the file sink and stock, marks sinks n/a for creation, and says by how much a goal is missed', () => {
    const cfg = benchConfig({ BENCH_SCENARIOS: 'a,d,e' });
    const results: Results = {
      rounds: new Map([
        ['a', new Map([['sink', [sample(800)]], ['ours-fsync', [sample(760)]], ['ours-nofsync', [sample(600)]]])],
        ['d', new Map([['sink', [sample(1000)]], ['ours-fsync', [sample(800, { peakRssMiB: 250 })]]])],
        ['e', new Map<string, Sample[] | null>([['sink', null], ['stock', [sample(500, { work: 2000 })]], ['ours-fsync', [sample(1100, { work: 2000 })]]])],
      ]),
      repeats: new Map(),
    };
    const { text, verdicts } = report(cfg, [...TARGETS], results);
    expect(text).toContain('n/a (no creation)');
    const v = (scenario: string, goal: RegExp) => verdicts.find((x) => x.scenario === scenario && goal.test(x.goal) && x.target.includes('FSYNC=true'));
    expect(v('a', /file sink/)).toMatchObject({ met: true, measured: '0.95×' });
    expect(v('d', /file sink/)).toMatchObject({ met: true, measured: '0.80×' });
    expect(v('d', /RSS/)).toMatchObject({ met: false, measured: '250 MiB' });
    expect(v('e', /stock/)).toMatchObject({ met: true, measured: '2.20×' });
    expect(text).toMatch(/MISSED \(0\.75×, 17 % short\)/); // ours FSYNC=false in (a): 600/800 against 0.90
    expect(text).toMatch(/RSS MISSED \(250 MiB, 25 % over\)/);

    const rows = fileSummaryRows(cfg, [...TARGETS], results, verdicts);
    expect(rows.map((r) => `${r.scenario[1]} ${r.target}`)).toEqual([
      'a raw node:http sink → file', 'a ours FSYNC=false', 'a ours FSYNC=true (default)',
      'd raw node:http sink → file', 'd ours FSYNC=true (default)',
      'e stock @tus/server + file-store', 'e ours FSYNC=true (default)', // no rows for the sinks, which create nothing
    ]);
    const oursD = rows.find((r) => r.scenario.startsWith('(d)') && r.target.includes('FSYNC=true'));
    expect(oursD).toMatchObject({ unit: 'MiB/s', vsLimit: { ratio: 0.8, limit: 'file sink' }, peakRssMiB: 250 });
    expect(oursD?.verdict).toBe('met ≥ 0.70× file sink; MISSED peak RSS ≤ 200 MiB');
    expect(rows.find((r) => r.scenario.startsWith('(e)') && r.target.includes('FSYNC=true'))).toMatchObject({ unit: 'POST/s', vsStock: 2.2, vsLimit: undefined });
  });
});

describe('bench summary table', () => {
  const rows: SummaryRow[] = [
    {
      scenario: '(b) 256 MiB in 8 MiB PATCHes', target: 'ours FSYNC=true', rates: [400, 380, 420], unit: 'MiB/s',
      vsLimit: { ratio: 0.95, limit: 'file sink' }, vsStock: 1.5, latencyMs: { p50: 20, p99: 31.25 }, peakRssMiB: 120.4,
      cpuSPerGiB: 1.234, verdict: 'met ≥ 0.80× file sink',
    },
    { scenario: '(S3) 256 MiB tus → S3', target: 'direct SDK Upload', rates: [90], unit: 'MiB/s' },
    { scenario: '(locks) acquire+release, N=200', target: 'stock MemoryLocker', latencyMs: { p50: 0.012, p99: 0.05 }, note: 'floor' },
  ];

  it('has one line per row under the uniform header, and blank cells where a column does not apply', () => {
    const lines = renderSummary(rows).split('\n');
    const header = lines.findIndex((l) => l.startsWith('scenario'));
    expect(lines[header].split(' | ').map((c) => c.trim())).toEqual([
      'scenario', 'target', 'MiB/s or POST/s median (min–max)', 'vs limit', 'vs stock', 'p50/p99 ms', 'peak RSS MiB',
      'server CPU s/GiB', 'goal verdict', 'note',
    ]);
    expect(lines[header + 1]).toMatch(/^-+(-\+-+)+$/);
    const body = lines.slice(header + 2, header + 2 + rows.length + 1);
    expect(body[rows.length]).toBe(''); // the table ends after the last row
    // A line ends at its last non-empty cell: pad the cells back to the header's ten.
    const cells = body.slice(0, rows.length).map((l) => Object.assign(Array<string>(10).fill(''), l.split(' | ').map((c) => c.trim())));
    expect(cells[0]).toEqual([
      '(b) 256 MiB in 8 MiB PATCHes', 'ours FSYNC=true', '400 (380–420) MiB/s', '0.95× file sink', '1.50×', '20.0 / 31.3', '120',
      '1.23', 'met ≥ 0.80× file sink', '',
    ]);
    expect(cells[1]).toEqual(['(S3) 256 MiB tus → S3', 'direct SDK Upload', '90 MiB/s', '', '', '', '', '', '', '']);
    expect(cells[2]).toEqual(['(locks) acquire+release, N=200', 'stock MemoryLocker', '', '', '', '0.012 / 0.050', '', '', '', 'floor']);
  });
});

describe('npm run bench:file, end to end at tiny sizes', () => {
  const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), '../dist/patch-bench.js');

  it('prints one table per scenario, then the summary table, exits 0 and leaves nothing in TMPDIR', async () => {
    expect(fs.existsSync(entry), `${entry} is missing: build first (npm test runs tsc -b before the tests)`).toBe(true);
    const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'bench-e2e-'));
    try {
      const env = {
        PATH: process.env.PATH, TMPDIR: tmp, BENCH_SIZE_MIB: '4', BENCH_RUNS: '1', BENCH_REPEAT: '2', BENCH_CHUNK_MIB: '1',
        BENCH_CONCURRENCY: '4', BENCH_CONC_SIZE_MIB: '2', BENCH_CONC_CHUNK_MIB: '1', BENCH_POSTS: '20', BENCH_POST_CONCURRENCY: '4',
        BENCH_TIMEOUT_S: '90',
      };
      const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) =>
        execFile(process.execPath, [entry], { env, timeout: 100_000 }, (err, out) =>
          resolve({ code: err ? Number(err.code ?? 1) : 0, stdout: out })),
      );
      expect(code, stdout).toBe(0);
      for (const title of ['(a) 4 MiB in one PATCH', '(b) 4 MiB in 1 MiB PATCHes', '(c) 2 back-to-back runs', '(d) 4 concurrent uploads', '(e) upload creation']) {
        expect(stdout).toContain(title);
      }
      expect(stdout).toContain('Goals (reported, never asserted)');
      expect(stdout.indexOf('SUMMARY:')).toBeGreaterThan(stdout.indexOf('(e) upload creation'));
      expect(await fsp.readdir(tmp)).toEqual([]);
    } finally {
      await fsp.rm(tmp, { recursive: true, force: true });
    }
  }, 100_000);
});
