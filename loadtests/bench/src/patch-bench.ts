/**
 * `npm run bench:file`: the file-storage part of `npm run bench` (bench-all.ts) on its own. Upload
 * benchmark of this server (FSYNC=true and FSYNC=false) against stock `@tus/server` + `@tus/file-store`
 * on plain node:http and two raw node:http sinks (to a file, and to /dev/null), over five scenarios,
 * printed as one table per scenario with the goals beside our rows, then the summary table (summary.ts):
 *
 *   (a) 1 GiB in one PATCH                      (d) 64 concurrent uploads of 16 MiB in 4 MiB PATCHes
 *   (b) 1 GiB in 8 MiB PATCHes                  (e) upload creation (POST), 32 in flight
 *   (c) 20 back-to-back (b) runs on one long-lived instance: first, last, last/first
 *
 *   npm run bench:file                                              # everything at the defaults (< 15 min)
 *   BENCH_SIZE_MIB=256 BENCH_RUNS=1 BENCH_REPEAT=3 npm run bench:file  # quick iteration
 *   BENCH_SCENARIOS=e BENCH_TARGETS=stock,ours-fsync npm run bench:file
 *
 * Settings (all environment variables) are listed in config.ts. Layout:
 *   config.ts     BENCH_* variables → BenchConfig (the only reader of process.env)
 *   targets.ts    the target list and the child processes that serve them (serve.ts is their entry)
 *   client.ts     HTTP client, the tus and sink upload protocols, page-cache prewarm
 *   scenarios.ts  one run of each scenario, with server CPU, page faults and peak RSS
 *   stats.ts      median, percentile, tables;  report.ts  the per-scenario tables and goal verdicts
 *   summary.ts    the summary table (shared with bench:distributed);  summary-rows.ts  its rows here
 *   main.ts       rounds, the long-lived (c) series, watchdog, clean-up
 *
 * Every server runs in its own child process, so the client, which sends from one pre-filled in-memory
 * buffer over keep-alive connections, never shares an event loop with the server under test. Everything
 * listens on 127.0.0.1 only, in temp dirs under os.tmpdir(); each upload is deleted right after its run.
 */
import { benchConfig } from './config.js';
import { startBench } from './main.js';
import { runParts } from './run-parts.js';

const cfg = benchConfig();
await runParts([{ name: 'file', start: () => startBench(cfg) }]);
