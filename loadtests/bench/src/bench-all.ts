/**
 * `npm run bench`: the whole benchmark in one command. It first runs the paired part (paired.ts,
 * `npm run bench:paired` on its own: ours vs stock driven by clients that are not ours, a plain
 * node:http client and tus-js-client, medians of paired ratios), then the file part (patch-bench.ts,
 * `npm run bench:file` on its own: scenarios (a)–(e) against stock @tus/server + @tus/file-store and
 * the node:http sinks to a file and to /dev/null), then the distributed part (distributed/main.ts,
 * `npm run bench:distributed` on its own: tus → S3 against the direct @aws-sdk/lib-storage Upload and
 * stock @tus/s3-store, ours on one node and on the 3-node local stack; lock latency; creation rate),
 * each printing its detailed tables as it ends, and closes with ONE summary table (summary.ts) of
 * every scenario and target of both parts.
 *
 *   npm run bench         # both parts at their defaults (each < 15 min, bounded by its own watchdog)
 *   npm run bench:quick   # both parts at small sizes (256 MiB uploads, 1 run), a few minutes
 *
 * Settings: the BENCH_* variables of config.ts and distributed/config.ts, all read before anything
 * starts. Exit code 0; 2 when a part's watchdog (BENCH_TIMEOUT_S) stopped it (the next part still
 * runs); 1 on an error; 130 / 143 on SIGINT / SIGTERM, after stopping what the running part started.
 * The distributed part forks its server children from distributed/main.js (`main.js serve <kind>`).
 */
import { fileURLToPath } from 'node:url';
import { benchConfig } from './config.js';
import { distBenchConfig } from './distributed/config.js';
import { startBench } from './main.js';
import { pairedConfig, startPaired } from './paired.js';
import { runParts } from './run-parts.js';

// As in distributed/main.ts: no "AWS SDK will need Node 22" warning, here or in the children.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { startDistBench } = await import('./distributed/run.js');

const DIST_ENTRY = fileURLToPath(new URL('./distributed/main.js', import.meta.url));

// Both configs are read before anything starts, so a bad setting fails at once.
const fileCfg = benchConfig();
const distCfg = distBenchConfig();
const pairedCfg = pairedConfig();
await runParts([
  { name: 'paired', start: () => startPaired(pairedCfg) },
  { name: 'file', start: () => startBench(fileCfg) },
  { name: 'distributed', start: () => startDistBench(distCfg, DIST_ENTRY) },
]);
