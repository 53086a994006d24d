/**
 * `npm run bench:distributed`: the distributed part of `npm run bench` (../bench-all.ts) on its own.
 * The speed of the distributed mode (S3 storage, Redis records and locks) side by side with the AWS
 * SDK alone and with stock @tus/server + @tus/s3-store, in one run, printed as one table per section,
 * then the summary table (../summary.ts):
 *
 *   1. tus → S3: 1 GiB by the SDK's multipart Upload (three settings), by ours on one node (one PATCH,
 *      64 MiB and 12 MiB PATCHes), by ours on the local stack (testing/stack.ts: 3 nodes behind nginx
 *      round-robin; one PATCH and 12 MiB PATCHes, which land on the nodes in turn; BENCH_STACK=0 skips
 *      it) and by stock (12 MiB PATCHes, one PATCH); MiB/s and the ratio to the best SDK run
 *   2. lock acquire + release latency (RedisLocker, ProcessLocker, stock MemoryLocker) and the
 *      cross-node release-on-contention handover
 *   3. upload creation rate at concurrency 1 and 32, S3 + Redis (and the embedded file storages)
 *
 *   npm run bench:distributed                                     # everything at the defaults
 *   BENCH_S3_SIZE_MIB=256 BENCH_RUNS=1 npm run bench:distributed  # quick
 *   BENCH_STACK=0 npm run bench:distributed                       # without the 3-node stack
 *   BENCH_SECTIONS=2 npm run bench:distributed                    # locks only
 *
 * Settings: config.ts. Layout: run.ts (services, children, the stack, sections, watchdog, clean-up), fleet.ts
 * (server children) and serve.ts (their side), client.ts (payload, HTTP, tus calls), proc.ts (CPU and
 * peak RSS by PID), one module per section (s3-throughput.ts, locks.ts, creation.ts), summary-rows.ts
 * (their rows of the summary table). This module is also the entry of each server child, forked as
 * `main.js serve <kind>` (by `npm run bench` too), so client and server never share an event loop.
 * Everything listens on 127.0.0.1 only, in temp dirs under os.tmpdir().
 */
import { fileURLToPath } from 'node:url';

// The AWS SDK warns once per process that its releases after January 2027 will need Node 22; the
// server supports Node >= 20.19 on purpose. Keep the report readable (children inherit this).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

if (process.argv[2] === 'serve') {
  const { serveChild } = await import('./serve.js');
  await serveChild(process.argv[3] ?? '', process.argv[4]).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  const { distBenchConfig } = await import('./config.js');
  const { startDistBench } = await import('./run.js');
  const { runParts } = await import('../run-parts.js');
  const cfg = distBenchConfig();
  await runParts([{ name: 'distributed', start: () => startDistBench(cfg, fileURLToPath(import.meta.url)) }]);
}
