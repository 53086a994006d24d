/**
 * Section 1, tus → S3: the same bytes into the same bucket, timed from the first request to the last
 * answer, by the AWS SDK's own multipart `Upload` (the limit), by our server (one node; and, with
 * BENCH_STACK=1, 3 nodes of the local stack behind nginx round-robin), and by stock
 * @tus/server + @tus/s3-store. Each run's object is checked with HeadObject (size) and, once for our
 * server, by downloading it and comparing sha256; then its objects are deleted.
 */
import { createHash } from 'node:crypto';
import type { S3 } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { S3Handle } from '@tus-edge/testkit';
import { f0, f1, median, MiB, ratio, spread, table } from '../stats.js';
import { type HttpClient, type Payload, tusCreate, tusUpload, uploadIdOf } from './client.js';
import type { ChildServer } from './fleet.js';
import { pidsCpuS, pidsPeakRssMiB, resetPeakRss } from './proc.js';
import { addStats, diffStats, formatStats, type S3CallStats } from './s3-trace.js';

/** A tus server a row uploads to: its endpoint, processes, the CPU it used so far and (diagnostics) its S3 calls. */
export interface TusServer {
  /** The tus endpoint, e.g. http://127.0.0.1:PORT/files */
  url: string;
  /** PIDs of its server processes (for peak RSS). */
  pids(): readonly number[];
  /** User+system CPU so far, ms; undefined when it cannot be read. */
  cpuMs(): Promise<number | undefined>;
  /** S3 calls so far; undefined unless traced. */
  trace(): Promise<S3CallStats | undefined>;
}

/** Nodes of the local stack (testing/stack.ts) behind its nginx, for the `stack-*` rows. */
export const STACK_NODES = 3;

export interface S3RunContext {
  s3: S3Handle;
  client: S3;
  http: HttpClient;
  payload: Payload;
  ours: ChildServer;
  stock: ChildServer;
  /** Our server on the local stack, through nginx; only with BENCH_STACK=1 (else the `stack-*` rows are not run). */
  stack?: TusServer;
  /** With BENCH_S3_TRACE=1: the S3 calls of `client` (the SDK rows), updated in place. */
  trace?: S3CallStats;
}

type Role = 'direct' | 'ours' | 'stock';

/** Our rows' goal: at least this fraction of the best direct SDK row's median. */
export const OURS_GOAL_VS_DIRECT = 0.9;

export interface S3Row {
  id: string;
  label: string;
  role: Role;
  /** What the row is read against, for the goal column. */
  goal: string;
  /** The tus server it uploads to (none for the SDK rows). */
  server?(ctx: S3RunContext): TusServer | undefined;
  /** Runs only on the local stack (BENCH_STACK=1). */
  needsStack?: boolean;
  /** Id of the single-node row this row is also compared with, under the table. */
  vs?: string;
  /** PATCH size of a tus row ('one': the whole upload in one PATCH); rows with the same chunk compare with each other. */
  chunk?: number | 'one';
  /** Uploads `size` bytes; resolves with the object key and, for tus rows, the PATCH latencies in ms. */
  run(ctx: S3RunContext, size: number): Promise<{ key: string; patchMs?: number[] }>;
}

export interface S3Sample {
  mibps: number;
  /** CPU seconds during the run: the server child (ours/stock), the Swift processes, this client. */
  serverCpuS?: number;
  swiftCpuS?: number;
  clientCpuS: number;
  /** Peak RSS of the server process(es) during the run (the highest of the stack's nodes), MiB. */
  peakRssMiB?: number;
  /** PATCH latencies, ms (tus rows). */
  patchMs?: number[];
}

export interface S3Results {
  sizeMiB: number;
  partSize: string;
  samples: Map<string, S3Sample[]>;
  errors: Map<string, string>;
  /** Outcome of the sha256 check (row id and verdict), once it ran. */
  sha?: string;
  /** With BENCH_S3_TRACE=1: S3 calls during the measured runs of each row, summed. */
  calls: Map<string, S3CallStats>;
}

let keys = 0;
const directKey = () => `direct-${process.pid}-${++keys}`;

function sdkRow(id: string, partMiB: number, queueSize: number, label: string, goal = 'the limit'): S3Row {
  return {
    id, label, role: 'direct', goal,
    async run({ s3, client, payload }, size) {
      const key = directKey();
      const upload = new Upload({ client, params: { Bucket: s3.bucket, Key: key, Body: payload.stream(size) }, partSize: partMiB * MiB, queueSize });
      await upload.done();
      return { key };
    },
  };
}

type Target = 'ours' | 'stock' | 'stack';

function tusRow(id: string, target: Target, chunkMiB: number | 'one', label: string, goal: string, vs?: string): S3Row {
  const server = (ctx: S3RunContext): TusServer | undefined => (target === 'ours' ? ctx.ours : target === 'stock' ? ctx.stock : ctx.stack);
  return {
    id, label, role: target === 'stock' ? 'stock' : 'ours', goal, server, needsStack: target === 'stack', vs, chunk: chunkMiB,
    async run(ctx, size) {
      const s = server(ctx);
      if (!s) throw new Error(`${id}: the local stack is not running (BENCH_STACK=0)`);
      const { url } = await tusCreate(ctx.http, s.url, size);
      const patchMs = await tusUpload(ctx.http, url, size, chunkMiB === 'one' ? size : chunkMiB * MiB);
      return { key: uploadIdOf(url), patchMs };
    },
  };
}

/** Every row, in table order. */
export const S3_ROWS: readonly S3Row[] = [
  sdkRow('sdk-5x4', 5, 4, 'direct SDK Upload, part 5 MiB × queue 4 (SDK defaults)'),
  sdkRow('sdk-16x8', 16, 8, 'direct SDK Upload, part 16 MiB × queue 8'),
  // Sequential 12 MiB PATCHes acknowledged only once in S3 keep one 12 MiB part in flight at a time,
  // as this row does (lib-storage signs each buffered part with its SHA-256, so not a strict bound).
  sdkRow('sdk-12x1', 12, 1, 'direct SDK Upload, part 12 MiB × queue 1 (one part in flight)', 'reference: like 12 MiB PATCHes'),
  tusRow('ours-1', 'ours', 'one', 'ours (S3 + Redis), one PATCH', '≥ 0.90× direct'),
  tusRow('ours-64', 'ours', 64, 'ours (S3 + Redis), 64 MiB PATCHes', '≥ 0.90× direct'),
  tusRow('ours-12', 'ours', 12, 'ours (S3 + Redis), 12 MiB PATCHes', '≥ 0.90× direct'),
  // The same server distributed. Every request goes through nginx (no request buffering), so
  // with 12 MiB PATCHes consecutive PATCHes of one upload land on different nodes in turn.
  tusRow('stack-1', 'stack', 'one', `ours on the local stack (${STACK_NODES} nodes, nginx round-robin), one PATCH`, '≥ 0.90× direct', 'ours-1'),
  tusRow('stack-12', 'stack', 12, `ours on the local stack (${STACK_NODES} nodes, nginx round-robin), 12 MiB PATCHes`, '≥ 0.90× direct', 'ours-12'),
  tusRow('stock-12', 'stock', 12, 'stock @tus/server + @tus/s3-store, 12 MiB PATCHes', 'issue: ≈ 0.4×'),
  tusRow('stock-1', 'stock', 'one', 'stock @tus/server + @tus/s3-store, one PATCH', 'reference'),
];

async function removeObjects(ctx: S3RunContext, key: string): Promise<void> {
  await ctx.client.deleteObjects({
    Bucket: ctx.s3.bucket,
    Delete: { Objects: [{ Key: key }, { Key: `${key}.info` }, { Key: `${key}.part` }], Quiet: true },
  });
}

async function objectSha256(ctx: S3RunContext, key: string): Promise<string> {
  const res = await ctx.client.getObject({ Bucket: ctx.s3.bucket, Key: key });
  const hash = createHash('sha256');
  for await (const chunk of res.Body as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}

/** One timed run of `row`, its checks and clean-up. */
async function measure(
  row: S3Row, ctx: S3RunContext, size: number, checkSha: boolean,
): Promise<{ sample: S3Sample; sha?: string; calls?: S3CallStats }> {
  const server = row.server?.(ctx);
  const calls = async () => (server ? await server.trace() : ctx.trace && structuredClone(ctx.trace));
  const calls0 = await calls();
  const rssReset = server ? resetPeakRss(server.pids()) : false;
  const cpu0 = { server: await server?.cpuMs(), swift: pidsCpuS(ctx.s3.pids), client: process.cpuUsage() };
  const t0 = performance.now();
  const { key, patchMs } = await row.run(ctx, size);
  const ms = performance.now() - t0;
  const client = process.cpuUsage(cpu0.client);
  const calls1 = await calls();
  const serverCpu = server ? await server.cpuMs() : undefined;
  const swiftCpu = pidsCpuS(ctx.s3.pids);
  const sample: S3Sample = {
    mibps: size / MiB / (ms / 1000),
    serverCpuS: serverCpu !== undefined && cpu0.server !== undefined ? (serverCpu - cpu0.server) / 1000 : undefined,
    swiftCpuS: swiftCpu !== undefined && cpu0.swift !== undefined ? swiftCpu - cpu0.swift : undefined,
    clientCpuS: (client.user + client.system) / 1e6,
    peakRssMiB: server && rssReset ? pidsPeakRssMiB(server.pids()) : undefined,
    // One PATCH's latency is the whole upload: only chunked uploads report PATCH latencies.
    patchMs: row.chunk === 'one' ? undefined : patchMs,
  };
  try {
    const head = await ctx.client.headObject({ Bucket: ctx.s3.bucket, Key: key });
    if (head.ContentLength !== size) throw new Error(`${row.id}: object ${key} has ${head.ContentLength} bytes, expected ${size}`);
    let sha: string | undefined;
    if (checkSha) {
      const [got, want] = [await objectSha256(ctx, key), ctx.payload.sha256(size)];
      if (got !== want) throw new Error(`${row.id}: sha256 of object ${key} is ${got}, expected ${want}`);
      sha = `${row.id}: sha256 of the ${f0(size / MiB)} MiB object matches the bytes sent (${got.slice(0, 16)}…)`;
    }
    return { sample, sha, calls: calls0 && calls1 ? diffStats(calls1, calls0) : undefined };
  } finally {
    await removeObjects(ctx, key).catch(() => undefined);
  }
}

/**
 * Runs section 1: a warm-up round (every row once at min(size, 128 MiB), untimed), then `runs` rounds,
 * each running every row in turn so background load spreads over all of them.
 */
export async function runS3Section(
  ctx: S3RunContext, results: S3Results, rows: readonly S3Row[], runs: number, log: (msg: string) => void,
): Promise<void> {
  const size = results.sizeMiB * MiB;
  const warm = Math.min(size, 128 * MiB);
  for (let round = 0; round <= runs; round++) {
    for (const row of rows) {
      if (results.errors.has(row.id)) continue;
      const checkSha = round === 1 && row.role === 'ours' && results.sha === undefined;
      try {
        const { sample, sha, calls } = await measure(row, ctx, round === 0 ? warm : size, checkSha);
        if (sha) results.sha = sha;
        if (round > 0) results.samples.set(row.id, [...(results.samples.get(row.id) ?? []), sample]);
        if (round > 0 && calls) {
          if (!results.calls.has(row.id)) results.calls.set(row.id, {});
          addStats(results.calls.get(row.id)!, calls);
        }
        log(`${round === 0 ? `warm-up (${f0(warm / MiB)} MiB)` : `run ${round}/${runs}`} ${row.id}: ${f0(sample.mibps)} MiB/s` +
          `${sample.serverCpuS !== undefined ? `, server CPU ${f1(sample.serverCpuS)}s` : ''}` +
          `${sample.swiftCpuS !== undefined ? `, Swift CPU ${f1(sample.swiftCpuS)}s` : ''}, client CPU ${f1(sample.clientCpuS)}s`);
      } catch (err) {
        results.errors.set(row.id, (err as Error).message);
        if (checkSha) results.sha = `FAILED: ${(err as Error).message}`;
        log(`${row.id} FAILED: ${(err as Error).message}`);
      }
    }
  }
}

/** Under the table, for the `stack-*` rows that ran: the ratio to the same upload on one node, and what the CPU column counts. */
function stackNotes(rows: readonly S3Row[], med: (id: string) => number): string[] {
  const pairs = rows
    .filter((r) => r.vs && Number.isFinite(med(r.id)) && Number.isFinite(med(r.vs)))
    .map((r) => `${r.id} ${ratio(med(r.id), med(r.vs!))} of ${r.vs}`);
  if (!pairs.length) return [];
  return [
    `Local stack vs one node (medians): ${pairs.join(', ')}. Stack rows: POST and PATCHes through nginx (round-robin, ` +
      `no request buffering), nodes with NATS_URL (events to JetStream) and the stack's Redis (append-only file); ` +
      `their server CPU is the ${STACK_NODES} node processes summed (nginx not counted).`,
  ];
}

/** The section-1 table. */
export function renderS3(results: S3Results, rows: readonly S3Row[]): string {
  const med = (id: string) => median((results.samples.get(id) ?? []).map((s) => s.mibps));
  const direct = rows.filter((r) => r.role === 'direct').map((r) => med(r.id)).filter(Number.isFinite);
  const best = direct.length ? Math.max(...direct) : NaN;
  const cpu = (xs: Array<number | undefined>) => {
    const v = xs.filter((x): x is number => x !== undefined);
    return v.length ? f1(median(v)) : 'n/a';
  };
  const header = ['row', 'MiB/s median (min–max)', 'vs best direct', 'goal', 'verdict', 'CPU s server / Swift / client'];
  const lines = rows.map((r) => {
    const samples = results.samples.get(r.id) ?? [];
    const err = results.errors.get(r.id);
    const m = med(r.id);
    const verdict = err ? 'FAILED' : r.role === 'ours' && Number.isFinite(m / best) ? (m / best >= OURS_GOAL_VS_DIRECT ? 'met' : 'MISSED') : '';
    return [
      r.label,
      err && samples.length === 0 ? `FAILED: ${err.slice(0, 60)}` : spread(samples.map((s) => s.mibps)),
      ratio(m, best),
      r.goal,
      verdict,
      samples.length
        ? `${cpu(samples.map((s) => s.serverCpuS))} / ${cpu(samples.map((s) => s.swiftCpuS))} / ${cpu(samples.map((s) => s.clientCpuS))}`
        : '',
    ];
  });
  const runs = Math.max(0, ...rows.map((r) => results.samples.get(r.id)?.length ?? 0));
  return [
    `1. tus → S3, ${results.sizeMiB} MiB per upload (${runs} measured run(s) per row after a warm-up round; ` +
      `our S3_PART_SIZE=${results.partSize}, S3_PART_CONCURRENCY=8; stock @tus/s3-store at its defaults: 8 MiB parts, 60 concurrent)`,
    table([header, ...lines]),
    `Every object checked with HeadObject (size). ${results.sha ?? 'sha256 check: not run.'}`,
    ...stackNotes(rows, med),
    ...(results.calls.size
      ? ['S3 calls per upload (BENCH_S3_TRACE=1; count, mean wall time incl. the body for UploadPart/PutObject):',
        ...rows.filter((r) => results.calls.has(r.id)).map((r) => `  ${r.id}: ${formatStats(results.calls.get(r.id)!, results.samples.get(r.id)?.length ?? 1)}`)]
      : []),
    ...[...results.errors].map(([id, e]) => `ERROR ${id}: ${e}`),
  ].join('\n');
}
