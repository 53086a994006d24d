/**
 * `npm run bench:history`: what the job history adds per job. The processor runtime (the same
 * `startRuntime` the embedded server runs) takes `HISTORY_COST_JOBS` jobs of a processor that does
 * nothing from the directory outbox, with file status, once handing every settled attempt to the
 * server's history writer (SQLite catalogue database, WAL; with `HISTORY_COST_PG=1` also a local
 * PostgreSQL) and once to a recorder that only counts. Runs are interleaved (none, sqlite, [pg], none,
 * …) so machine noise spreads over all. The no-op processor makes the runtime's own bookkeeping the
 * whole job: the difference is the history's cost per job at its largest share. Loopback and temp dirs only.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  DirectoryOutbox, parseConfig, silentLogger, startRuntime,
  type AttemptRecorder, type JobAttempt, type Processor, type UploadCompletedEvent,
} from '@tus-edge/processors';
import { HistoryWriter, openCatalogueDb, SqlJobHistory } from '@tus-edge/server';
import { startPostgres, type PostgresHandle } from '@tus-edge/testkit';
import { median, percentile } from './stats.js';

const JOBS = Number(process.env.HISTORY_COST_JOBS ?? 400);
const RUNS = Number(process.env.HISTORY_COST_RUNS ?? 5);
const WITH_PG = process.env.HISTORY_COST_PG === '1';
/** Sequential `record()` calls timed one by one, per backend. */
const RECORDS = Number(process.env.HISTORY_COST_RECORDS ?? 2000);

const noop: Processor = { kind: 'noop', accepts: () => true, run: async () => ({ result: {} }) };

interface Mode {
  name: string;
  /** A recorder (counting what it is handed) and how to close it. */
  open(dir: string): Promise<{ recorder: AttemptRecorder; close(): Promise<void> }>;
}

/** Wraps a recorder so the run knows when the last attempt was handed over. */
function counting(inner: AttemptRecorder | null, onEach: () => void): AttemptRecorder {
  return { record: async (a: JobAttempt) => {
    if (inner) await inner.record(a);
    onEach();
  } };
}

async function sqlRecorder(config: Parameters<typeof openCatalogueDb>[0]) {
  const history = new SqlJobHistory(openCatalogueDb(config));
  await history.migrate();
  const missing = async () => undefined;
  return { recorder: new HistoryWriter({ history, records: { get: missing }, catalogue: { byUpload: missing } }), close: () => history.close() };
}

/** One run: seconds for `JOBS` jobs from the first event to the last recorded attempt. */
async function run(mode: Mode): Promise<number> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'history-cost-'));
  const { recorder, close } = await mode.open(dir);
  let recorded = 0;
  let allDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allDone = resolve));
  const config = { ...parseConfig({ DATA_DIR: dir, PROCESSOR_CONCURRENCY: '4' }), kinds: [] };
  const outbox = new DirectoryOutbox(path.join(dir, 'events'));
  for (let i = 0; i < JOBS; i++) {
    const id = `b${i.toString(36)}x${Date.now().toString(36)}`;
    const event: UploadCompletedEvent = {
      version: 1, type: 'uploads.completed', eventId: `upload-${id}`, uploadId: id, size: 1000, metadata: { filetype: 'application/pdf' },
      location: { kind: 'file', path: path.join(dir, 'none') }, completedAt: new Date().toISOString(), node: 'bench',
    };
    await outbox.publish(event);
  }
  const started = performance.now();
  const runtime = await startRuntime({
    config, processors: [noop], http: false, logger: silentLogger,
    attempts: counting(recorder, () => ++recorded === JOBS && allDone()),
  });
  await done;
  const seconds = (performance.now() - started) / 1000;
  await runtime.stop();
  await close();
  await fs.rm(dir, { recursive: true, force: true });
  return seconds;
}

async function main(): Promise<void> {
  let postgres: PostgresHandle | undefined;
  let n = 0;
  const modes: Mode[] = [
    { name: 'not recorded', open: async () => ({ recorder: { record: async () => undefined }, close: async () => undefined }) },
    { name: 'SQLite history', open: (dir) => sqlRecorder({ kind: 'sqlite', file: path.join(dir, 'catalogue.db') }) },
  ];
  if (WITH_PG) {
    postgres = await startPostgres();
    const pg = postgres;
    modes.push({ name: 'PostgreSQL history', open: async () => sqlRecorder({ kind: 'postgres', url: await pg.createDatabase(`history_cost_${++n}`), poolSize: 4 }) });
  }
  const seconds = new Map(modes.map((m) => [m.name, [] as number[]]));
  const latencies = new Map<string, number[]>();
  try {
    for (let r = 0; r < RUNS; r++) for (const mode of modes) seconds.get(mode.name)!.push(await run(mode));
    for (const mode of modes.slice(1)) latencies.set(mode.name, await recordLatencies(mode));
  } finally {
    await postgres?.stop();
  }
  const base = seconds.get('not recorded')!;
  console.log(`Job history cost: ${RUNS} interleaved runs × ${JOBS} no-op jobs through startRuntime (directory outbox, file status, PROCESSOR_CONCURRENCY=4)`);
  console.log('| history | jobs/s, median of runs (min–max) | ms per job | added ms per job vs not recorded (median of per-round differences) |');
  console.log('|---|---|---|---|');
  for (const [name, xs] of seconds) {
    const rates = xs.map((s) => JOBS / s);
    const perJob = xs.map((s) => (s * 1000) / JOBS);
    const added = xs.map((s, i) => ((s - base[i]!) * 1000) / JOBS);
    const spread = `${Math.min(...rates).toFixed(0)}–${Math.max(...rates).toFixed(0)}`;
    console.log(`| ${name} | ${median(rates).toFixed(0)} (${spread}) | ${median(perJob).toFixed(3)} (p90 of runs ${percentile(perJob, 90).toFixed(3)}) | ${name === 'not recorded' ? '—' : `${median(added).toFixed(3)} (${Math.min(...added).toFixed(3)}–${Math.max(...added).toFixed(3)})`} |`);
  }

  console.log(`\nrecord() alone: ${RECORDS} sequential attempts through the history writer (owner lookups answer at once)`);
  console.log('| history | p50 ms | p90 ms | p99 ms | records/s |');
  console.log('|---|---|---|---|---|');
  for (const [name, ms] of latencies) {
    const total = ms.reduce((a, b) => a + b, 0) / 1000;
    console.log(`| ${name} | ${median(ms).toFixed(3)} | ${percentile(ms, 90).toFixed(3)} | ${percentile(ms, 99).toFixed(3)} | ${(ms.length / total).toFixed(0)} |`);
  }
}

/** Per-call latency (ms) of `RECORDS` sequential `record()` calls. */
async function recordLatencies(mode: Mode): Promise<number[]> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'history-cost-'));
  const { recorder, close } = await mode.open(dir);
  const ms: number[] = [];
  try {
    const now = Date.now();
    for (let i = 0; i < RECORDS; i++) {
      const at = new Date(now - 1000 + i).toISOString();
      const attempt: JobAttempt = {
        version: 1, id: `r${i}:noop#1`, jobId: `r${i}:noop`, uploadId: `r${i}`, kind: 'noop', mediaType: 'application/pdf', size: 1000,
        queuedAt: at, startedAt: at, endedAt: at, attempt: 1, outcome: 'done', errorCode: null, model: null, promptTokens: 0, completionTokens: 0, metrics: { pages: 1 }, node: 'bench',
      };
      const started = performance.now();
      await recorder.record(attempt);
      ms.push(performance.now() - started);
    }
    return ms.slice(Math.floor(RECORDS / 20)); // the first calls warm up
  } finally {
    await close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
