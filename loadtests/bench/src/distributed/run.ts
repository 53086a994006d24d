/**
 * Runs `bench:distributed`: starts Redis and S3 (Swift with s3api, or TEST_S3_ENDPOINT), the server
 * children and, with BENCH_STACK=1 and section 1, the local stack (testing/stack.ts: its own Redis and
 * NATS, 3 nodes, nginx; its S3 is then the one every row uses, so all rows share one Swift), then the
 * selected sections in order, prints the machine, a note on the set-up and one table per section,
 * and resolves with the rows of the summary table (../summary.ts). A watchdog bounds the whole run: it
 * prints what was measured, stops everything and resolves with the partial rows, marked timed out.
 * Every process and temp dir started here is stopped or removed on every path out.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createS3Client, s3Env, startRedis, startS3, type RedisHandle, type S3Handle } from '@tus-edge/testkit';
import { startStack, type Stack } from '@tus-edge/testkit';
import { f0, f2, MiB } from '../stats.js';
import type { HarnessOutcome, SummaryRow } from '../summary.js';
import { HttpClient, Payload } from './client.js';
import type { DistBenchConfig, SectionId } from './config.js';
import { directS3Target, renderCreate, runCreateSection, tusTarget, type CreateResults, type CreateTarget } from './creation.js';
import { Fleet, type ChildServer } from './fleet.js';
import { renderLocks, runLockSection, type LockResults } from './locks.js';
import { pidsCpuS } from './proc.js';
import { renderS3, runS3Section, S3_ROWS, STACK_NODES, type S3Results, type TusServer } from './s3-throughput.js';
import { type S3CallStats, traceS3 } from './s3-trace.js';
import { createSummaryRows, lockSummaryRows, s3SummaryRows } from './summary-rows.js';

export interface DistBench {
  done: Promise<HarnessOutcome>;
  /** Last-resort clean-up (Ctrl-C); bounded. */
  abort(): Promise<void>;
}

/** The environment of an S3 + Redis server child (ours reads all of it; stock reads the S3 part). */
function distributedEnv(s3: S3Handle, redis: RedisHandle, partSize: string): Record<string, string> {
  return {
    ...s3Env(s3),
    S3_PART_SIZE: partSize,
    REDIS_URL: redis.url,
  };
}

/**
 * Every server child's base environment. PROCESSORS_IN_PROCESS=false: this measures the upload path;
 * processors running in the server would read every finished object back during the next runs
 * (and find it deleted, since each run's objects are removed once checked).
 */
const BASE_ENV = { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', SHUTDOWN_TIMEOUT_MS: '2000', NODE_NAME: 'bench', PROCESSORS_IN_PROCESS: 'false' };

/**
 * Our server on the local stack as a section-1 target: nginx's URL; CPU = the node processes summed,
 * peak RSS = the highest of them (nginx's processes are not counted); no S3 trace.
 */
function stackTarget(stack: Stack): TusServer {
  const pids = () => stack.nodes.map((n) => n.pid);
  return {
    url: `${stack.url}/files`,
    pids,
    cpuMs: async () => {
      const s = pidsCpuS(pids());
      return s === undefined ? undefined : s * 1000;
    },
    trace: async () => undefined,
  };
}

export function startDistBench(cfg: DistBenchConfig, entry: string): DistBench {
  for (const id of cfg.s3Rows) if (!S3_ROWS.some((r) => r.id === id)) throw new Error(`BENCH_S3_ROWS: unknown row "${id}" (${S3_ROWS.map((r) => r.id).join(', ')})`);
  const stackRowIds = S3_ROWS.filter((r) => r.needsStack).map((r) => r.id);
  if (!cfg.stack) {
    const asked = cfg.s3Rows.filter((id) => stackRowIds.includes(id));
    if (asked.length) throw new Error(`BENCH_S3_ROWS asks for ${asked.join(', ')}, which need BENCH_STACK=1`);
  }
  const s3Rows = (cfg.s3Rows.length ? S3_ROWS.filter((r) => cfg.s3Rows.includes(r.id)) : S3_ROWS).filter((r) => cfg.stack || !r.needsStack);
  const t0 = performance.now();
  const load0 = os.loadavg();
  const elapsed = () => `${f0((performance.now() - t0) / 1000)}s`;
  const log = (msg: string) => process.stderr.write(`[bench:distributed ${elapsed()}] ${msg}\n`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tus-bench-dist-'));
  const fleet = new Fleet(entry, root, cfg.cpuProfDir);
  const onExit = () => fleet.killAllSync();
  process.once('exit', onExit);

  const s3Results: S3Results = { sizeMiB: cfg.sizeMiB, partSize: cfg.partSize, samples: new Map(), errors: new Map(), calls: new Map() };
  const lockResults: LockResults = { n: cfg.lockN, handovers: cfg.handovers, rows: [], errors: [] };
  const createResults: CreateResults = { seconds: cfg.createSeconds, samples: new Map(), labels: new Map() };
  let s3: S3Handle | undefined;
  let redis: RedisHandle | undefined;
  let stack: Stack | undefined;
  const children: ChildServer[] = [];
  const clients: Array<{ close(): void }> = [];

  /** Set when clean-up starts (watchdog, abort(), the end): no further section starts. */
  let stopped = false;
  let timedOut = false;
  const sectionOn = (section: SectionId) => !stopped && cfg.sections.includes(section);

  /** Prints the header and every section's table; returns the summary rows of what was measured. */
  const printAll = (): HarnessOutcome => {
    const cpu = os.cpus();
    const s3Note = !s3 ? 'S3 not started.'
      : s3.kind === 'swift'
        ? `The S3 server is OpenStack Swift with s3api (4 Python processes, workers = 0) on this same ${cpu.length}-core machine, ` +
          'so Swift, the server under test and this client compete for CPU: read the S3 numbers as relative, not absolute.'
        : `The S3 server is the external endpoint ${s3.endpoint} (TEST_S3_ENDPOINT).`;
    const stackNote = stack
      ? ` The local stack (${STACK_NODES} server nodes + nginx + NATS + its Redis) ran beside the other servers throughout and uses the same S3.`
      : '';
    console.log(
      `\ntus-edge bench:distributed: node ${process.version}, ${os.type()} ${os.release()}, ${cpu.length} × ${cpu[0]?.model ?? '?'}, ` +
        `${f0(os.totalmem() / 1024 ** 3)} GiB RAM; load avg (1/5/15 min) before ${load0.map(f2).join(' ')}, ` +
        `after ${os.loadavg().map(f2).join(' ')}; wall ${elapsed()}.`,
    );
    console.log(
      `${s3Note}${stackNote} Loopback 127.0.0.1; every server in its own child process; the client sends from one in-memory ` +
        'random pattern. Spread = median (min–max) over the measured runs.',
    );
    const summary: SummaryRow[] = [];
    if (cfg.sections.includes('1')) {
      console.log(`\n${renderS3(s3Results, s3Rows)}`);
      summary.push(...s3SummaryRows(s3Results, s3Rows));
    }
    if (cfg.sections.includes('2')) {
      console.log(`\n${renderLocks(lockResults)}`);
      summary.push(...lockSummaryRows(lockResults));
    }
    if (cfg.sections.includes('3')) {
      console.log(`\n${renderCreate(createResults)}`);
      summary.push(...createSummaryRows(createResults));
    }
    return { summary, timedOut };
  };

  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      stopped = true;
      for (const c of clients) c.close();
      const bounded = (p: Promise<unknown>) => Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, 15_000))]);
      await bounded(Promise.all(children.map((c) => c.stop())));
      await fleet.killAll();
      // The stack's stop() stops its nginx and nodes (SIGTERM, SIGKILL after 15 s), then its Redis, NATS
      // and S3, which is `s3` here; whatever outlives the bound is killed by the services' exit hook.
      const stackStop = stack?.stop();
      await Promise.all([
        stackStop ? Promise.race([stackStop.catch(() => undefined), new Promise((r) => setTimeout(r, 30_000))]) : bounded(Promise.resolve(s3?.stop())),
        bounded(Promise.resolve(redis?.stop())),
      ]);
      await fsp.rm(root, { recursive: true, force: true });
      process.off('exit', onExit);
    })());

  let watchdog: NodeJS.Timeout | undefined;
  const timeout = new Promise<HarnessOutcome>((resolve) => {
    watchdog = setTimeout(() => {
      timedOut = true;
      console.log(`\nBENCH TIMEOUT after ${cfg.timeoutS}s (BENCH_TIMEOUT_S): partial results below.`);
      const outcome = printAll();
      void cleanup().finally(() => resolve(outcome));
    }, cfg.timeoutS * 1000);
    watchdog.unref();
  });

  const run = async (): Promise<HarnessOutcome> => {
    log(`sections ${cfg.sections.join(',')}; S3 ${cfg.sizeMiB} MiB × ${cfg.runs} runs (+ warm-up), rows ${s3Rows.map((r) => r.id).join(',')}; ` +
      `part size ${cfg.partSize}; locks N=${cfg.lockN}, handovers ${cfg.handovers}; creation ${cfg.createSeconds} s per cell; ` +
      `stack ${cfg.stack ? `on (${STACK_NODES} nodes)` : 'off'}; watchdog ${cfg.timeoutS}s; temp ${root}`);
    try {
      const needsS3 = cfg.sections.includes('1') || cfg.sections.includes('3');
      const needsStack = cfg.sections.includes('1') && s3Rows.some((r) => r.needsStack);
      // With the stack, its S3 is every row's S3 (one Swift on the machine, not two).
      const startStackS3 = async () => {
        stack = await startStack({
          nodes: STACK_NODES,
          env: { S3_PART_SIZE: cfg.partSize, PROCESSORS_IN_PROCESS: 'false', LOG_LEVEL: 'warn', SHUTDOWN_TIMEOUT_MS: '2000' },
        });
        return stack.s3;
      };
      [redis, s3] = await Promise.all([startRedis(), needsStack ? startStackS3() : needsS3 ? startS3() : Promise.resolve(undefined)]);
      log(`redis ${redis.url}${s3 ? `, S3 (${s3.kind}) ${s3.endpoint} bucket ${s3.bucket}` : ''}` +
        `${stack ? `; stack ${stack.url} → ${stack.nodes.map((n) => `${n.name} ${n.url} (pid ${n.pid})`).join(', ')}` : ''}`);
      const payload = new Payload(randomBytes(16 * MiB));
      const http = new HttpClient(payload);
      clients.push(http);
      const start = async (kind: ChildServer['kind'], env: Record<string, string>) => {
        const child = await fleet.start(kind, { ...BASE_ENV, ...env }, cfg.s3Trace);
        children.push(child);
        return child;
      };
      let ours: ChildServer | undefined;
      let stock: ChildServer | undefined;
      if (s3) {
        const env = distributedEnv(s3, redis, cfg.partSize);
        [ours, stock] = await Promise.all([start('ours-s3', env), start('stock-s3', env)]);
        log(`ours-s3 ${ours.url} (pid ${ours.pid}), stock-s3 ${stock.url} (pid ${stock.pid})`);
      }
      if (sectionOn('1') && s3 && ours && stock) {
        const client = createS3Client(s3);
        clients.push({ close: () => client.destroy() });
        const trace: S3CallStats | undefined = cfg.s3Trace ? {} : undefined;
        if (trace) traceS3(client, trace);
        const stackServer = stack ? stackTarget(stack) : undefined;
        await runS3Section({ s3, client, http, payload, ours, stock, trace, stack: stackServer }, s3Results, s3Rows, cfg.runs, log);
      }
      if (sectionOn('2')) await runLockSection(redis.url, lockResults, log);
      if (sectionOn('3') && s3 && ours && stock) {
        const client = createS3Client(s3);
        clients.push({ close: () => client.destroy() });
        const targets: CreateTarget[] = [
          directS3Target(client, s3.bucket),
          tusTarget(http, ours.url, { id: 'ours-s3', label: 'ours, S3 + Redis', storage: 's3', role: 'ours' }),
          tusTarget(http, stock.url, { id: 'stock-s3', label: 'stock @tus/server + @tus/s3-store', storage: 's3', role: 'stock' }),
        ];
        if (cfg.createFile) {
          const [oursFile, stockFile] = await Promise.all([start('ours-file', {}), start('stock-file', {})]);
          targets.push(
            tusTarget(http, oursFile.url, { id: 'ours-file', label: 'ours embedded (file storage, FSYNC=true default)', storage: 'file', role: 'ours' }),
            tusTarget(http, stockFile.url, { id: 'stock-file', label: 'stock @tus/server + @tus/file-store', storage: 'file', role: 'stock' }),
          );
        }
        await runCreateSection(targets, createResults, log);
      }
      clearTimeout(watchdog);
      // After a timeout the watchdog has printed already, and its outcome stands.
      return timedOut ? timeout : printAll();
    } finally {
      clearTimeout(watchdog);
      await cleanup();
    }
  };

  // After a timeout the interrupted run() fails against the stopped services; the race has settled by then.
  return { done: Promise.race([run(), timeout]), abort: cleanup };
}
