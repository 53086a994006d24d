/**
 * Runs the benchmark described by a {@link BenchConfig}: starts the targets, measures the round-robin
 * scenarios (a), (b), (d), (e) – one warm-up round, then `runs` measured rounds, each round running
 * every scenario on every target in turn so background load spreads over all of them – then (c) on a
 * fresh instance per target, prints one table per scenario and resolves with the rows of the summary
 * table (summary.ts). A watchdog bounds the whole run: it prints what was measured, stops every
 * target and resolves with the partial rows, marked timed out.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BenchConfig, ScenarioId } from './config.js';
import { report, type Results } from './report.js';
import { runConcurrent, runCreation, runUpload, type RunContext, type Sample } from './scenarios.js';
import { f0, f1, f2, MiB } from './stats.js';
import type { HarnessOutcome } from './summary.js';
import { fileSummaryRows } from './summary-rows.js';
import { Fleet, TARGETS, targetSpec, type Target } from './targets.js';

type RoundScenario = { id: ScenarioId; unit: string; run(t: Target, ctx: RunContext): Promise<Sample | undefined> };

const ROUND_SCENARIOS: RoundScenario[] = [
  { id: 'a', unit: 'MiB/s', run: (t, ctx) => runUpload(t, ctx, ctx.cfg.sizeMiB * MiB, ctx.cfg.sizeMiB * MiB) },
  { id: 'b', unit: 'MiB/s', run: (t, ctx) => runUpload(t, ctx, ctx.cfg.sizeMiB * MiB, ctx.cfg.chunkMiB * MiB) },
  { id: 'd', unit: 'MiB/s', run: runConcurrent },
  { id: 'e', unit: 'POST/s', run: runCreation },
];

/** The running benchmark; `abort()` is the last-resort clean-up (Ctrl-C, error). */
export interface BenchRun {
  done: Promise<HarnessOutcome>;
  abort(): Promise<void>;
}

export function startBench(cfg: BenchConfig): BenchRun {
  const fleet = new Fleet(cfg.cpuProfDir, cfg.nodeArgs);
  const payload = randomBytes(Math.max(cfg.chunkMiB, cfg.concChunkMiB) * MiB);
  let prewarmDir: string | undefined;
  const results: Results = { rounds: new Map(), repeats: new Map() };
  const t0 = performance.now();
  const clientCpu0 = process.cpuUsage();
  const load0 = os.loadavg();
  let peakLoad = load0[0];
  const elapsed = () => `${f0((performance.now() - t0) / 1000)}s`;
  const log = (msg: string) => {
    peakLoad = Math.max(peakLoad, os.loadavg()[0]);
    process.stderr.write(`[bench ${elapsed()}] ${msg}\n`);
  };
  const specs = TARGETS.filter((t) => cfg.targets.includes(t.id) || (cfg.scenarios.includes('c') && cfg.repeatTargets.includes(t.id)));

  let timedOut = false;
  /** Prints the header and every table; returns the summary rows of what was measured. */
  const printAll = (): HarnessOutcome => {
    const c = process.cpuUsage(clientCpu0);
    const load = os.loadavg().map(f2).join(' ');
    const cpu = os.cpus();
    console.log(
      `\ntus-edge benchmark: node ${process.version}, ${os.type()} ${os.release()}, ${cpu.length} × ${cpu[0]?.model ?? '?'}, ` +
        `${f0(os.totalmem() / 1024 ** 3)} GiB RAM; load avg (1/5/15 min) at start ${load0.map(f2).join(' ')}, at end ${load}, ` +
        `highest 1-min seen ${f2(peakLoad)}; wall ${elapsed()}, client CPU ${f1((c.user + c.system) / 1e6)}s`,
    );
    console.log(
      'Loopback 127.0.0.1; every server in its own child process; the client sends from one in-memory buffer. ' +
        'Spread = median (min–max) over the measured runs; ratios are median/median; CPU, page faults and peak RSS ' +
        'are those of the server process during the timed section. ' +
        (prewarmDir ? 'Each timed upload follows an untimed write+unlink of a same-size scratch file (BENCH_PREWARM=0 to skip).' : 'No page-cache prewarm (BENCH_PREWARM=0).'),
    );
    const { text, verdicts } = report(cfg, specs, results);
    console.log(text);
    return { summary: fileSummaryRows(cfg, specs, results, verdicts), timedOut };
  };

  const abort = async () => {
    await fleet.killAll();
    if (prewarmDir) fs.rmSync(prewarmDir, { recursive: true, force: true });
  };

  let watchdog: NodeJS.Timeout | undefined;
  const timeout = new Promise<HarnessOutcome>((resolve) => {
    watchdog = setTimeout(() => {
      timedOut = true;
      console.log(`\nBENCH TIMEOUT after ${cfg.timeoutS}s: partial results below.`);
      const outcome = printAll();
      void abort().finally(() => resolve(outcome));
    }, cfg.timeoutS * 1000);
    watchdog.unref();
  });

  const run = async (): Promise<HarnessOutcome> => {
    if (cfg.prewarm) prewarmDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'tus-bench-client-'));
    const ctx: RunContext = { cfg, payload, prewarmDir };
    log(
      `scenarios ${cfg.scenarios.join(',')}; size ${cfg.sizeMiB} MiB, chunk ${cfg.chunkMiB} MiB, runs ${cfg.runs} (+1 warm-up), ` +
        `repeat ${cfg.repeat}, ${cfg.concurrency}×${cfg.concSizeMiB} MiB in ${cfg.concChunkMiB} MiB, ` +
        `${cfg.posts} POSTs at c=${cfg.postConcurrency}; targets ${cfg.targets.join(',')}; watchdog ${cfg.timeoutS}s`,
    );
    const running: Target[] = [];
    const stop = async (t: Target) => {
      running.splice(running.indexOf(t), 1);
      const leftover = await t.stop();
      if (leftover > MiB) log(`WARNING: ${t.spec.id} left ${f1(leftover / MiB)} MiB in its data dir`);
    };
    try {
      const rounds = ROUND_SCENARIOS.filter((s) => cfg.scenarios.includes(s.id));
      for (const s of rounds) results.rounds.set(s.id, new Map());
      if (rounds.length > 0) {
        for (const spec of specs.filter((t) => cfg.targets.includes(t.id))) running.push(await spec.start({ payload, fleet }));
        for (let round = 0; round <= cfg.runs; round++) {
          for (const t of running) {
            const line: string[] = [];
            for (const s of rounds) {
              const sample = await s.run(t, ctx);
              line.push(`(${s.id}) ${sample ? `${f0(sample.rate)} ${s.unit}` : 'n/a'}`);
              const byTarget = results.rounds.get(s.id)!;
              if (!sample) byTarget.set(t.spec.id, null);
              else if (round > 0) byTarget.set(t.spec.id, [...(byTarget.get(t.spec.id) ?? []), sample]);
            }
            log(`${round === 0 ? 'warm-up' : `run ${round}`} ${t.spec.id}: ${line.join(', ')}`);
          }
        }
        for (const t of [...running]) await stop(t);
      }
      if (cfg.scenarios.includes('c')) {
        for (const id of cfg.repeatTargets) {
          const t = await targetSpec(id).start({ payload, fleet });
          running.push(t);
          const series: Sample[] = [];
          results.repeats.set(id, series);
          for (let i = 0; i < cfg.repeat; i++) {
            series.push(await runUpload(t, ctx, cfg.sizeMiB * MiB, cfg.chunkMiB * MiB));
            log(`(c) ${i + 1}/${cfg.repeat} ${id}: ${f0(series[i].rate)} MiB/s`);
          }
          await stop(t);
        }
      }
    } finally {
      await Promise.all(running.map((t) => t.stop()));
      if (prewarmDir) await fsp.rm(prewarmDir, { recursive: true, force: true });
    }
    clearTimeout(watchdog);
    // Reached after a timeout only when the targets stopped cleanly: the watchdog has printed already.
    return timedOut ? timeout : printAll();
  };

  // After a timeout the interrupted run() fails against its killed targets; the race has settled by then.
  return { done: Promise.race([run(), timeout]), abort };
}
