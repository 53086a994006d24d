/**
 * What the benchmark measures. Each function is one run of a scenario on one target, through the
 * target's {@link Uploader} only:
 *
 *   (a) `size` bytes in one PATCH (sinks: one PUT)          → runUpload(size, size)
 *   (b) `size` bytes in `chunk`-byte PATCHes                 → runUpload(size, chunk)
 *   (c) (b) back to back on one long-lived instance          → runUpload, repeated by main.ts
 *   (d) `concurrency` uploads of `concSize` in `concChunk` PATCHes at once → runConcurrent
 *   (e) `posts` creations (POST), `postConcurrency` in flight → runCreation (n/a without creation)
 *
 * Set-up (creating the uploads of (a)–(d), the prewarm) and clean-up (DELETE) are untimed. Server CPU
 * and peak RSS cover the timed section only.
 */
import { prewarm } from './client.js';
import type { BenchConfig } from './config.js';
import { GiB, MiB } from './stats.js';
import type { Target } from './targets.js';

/** One measured run. */
export interface Sample {
  /** MiB/s (uploads) or creations/s (e). */
  rate: number;
  /** Latency of every timed request (PATCH, PUT or POST), ms. */
  latMs: number[];
  /** Work done in the timed section: bytes written, or creations. */
  work: number;
  /** Server CPU seconds over the timed section; NaN when the target has no probe. */
  userS: number;
  sysS: number;
  /** Minor page faults of the server over the timed section. */
  faults: number;
  /** RSS of the server when the timed section started, MiB (NaN where the peak cannot be reset). */
  startRssMiB: number;
  /** Peak RSS of the server during the timed section (lifetime peak where it cannot be reset), MiB. */
  peakRssMiB: number;
}

export interface RunContext {
  cfg: BenchConfig;
  payload: Buffer;
  /** Where prewarm() writes its scratch file; undefined when BENCH_PREWARM=0. */
  prewarmDir: string | undefined;
}

/** Times `body` and brackets it with the server's CPU, page faults and peak RSS. */
async function measured(target: Target, unit: number, body: () => Promise<{ latMs: number[]; work: number }>): Promise<Sample> {
  const probe = target.probe;
  const reset = probe ? await probe.resetPeak() : false;
  // Right after a reset the peak is the current RSS: the starting point of this run.
  const before = probe ? await probe.usage() : undefined;
  const started = performance.now();
  const { latMs, work } = await body();
  const seconds = (performance.now() - started) / 1000;
  const after = probe ? await probe.usage() : undefined;
  const delta = (k: 'user' | 'system' | 'faults') => (before && after ? after[k] - before[k] : NaN);
  return {
    rate: work / unit / seconds,
    latMs,
    work,
    userS: delta('user') / 1e6,
    sysS: delta('system') / 1e6,
    faults: delta('faults'),
    startRssMiB: reset && before ? before.maxRSS / 1024 : NaN,
    peakRssMiB: after ? after.maxRSS / 1024 : NaN,
  };
}

/** Runs `fn(0..count-1)` with at most `concurrency` in flight; results in index order. */
async function pool<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return out;
}

/** Writes `size` bytes to `upload` in `chunk`-byte requests, in order; returns their latencies. */
async function writeAll(upload: { write(offset: number, n: number): Promise<number> }, size: number, chunk: number): Promise<number[]> {
  const latMs: number[] = [];
  for (let offset = 0; offset < size; ) {
    const n = Math.min(chunk, size - offset);
    latMs.push(await upload.write(offset, n));
    offset += n;
  }
  return latMs;
}

/** (a), (b), (c): one upload of `size` bytes in PATCHes of `chunk` bytes (one PATCH when chunk >= size). */
export async function runUpload(target: Target, ctx: RunContext, size: number, chunk: number): Promise<Sample> {
  const upload = await target.uploader.open(size);
  prewarm(ctx.prewarmDir, ctx.payload, size);
  const sample = await measured(target, MiB, async () => ({ latMs: await writeAll(upload, size, chunk), work: size }));
  await upload.remove();
  return sample;
}

/** (d): `concurrency` uploads at once; the rate is the aggregate over all of them. */
export async function runConcurrent(target: Target, ctx: RunContext): Promise<Sample> {
  const { concurrency, concSizeMiB, concChunkMiB } = ctx.cfg;
  const size = concSizeMiB * MiB;
  const uploads = await pool(concurrency, concurrency, () => target.uploader.open(size));
  prewarm(ctx.prewarmDir, ctx.payload, concurrency * size);
  const sample = await measured(target, MiB, async () => {
    const lat = await Promise.all(uploads.map((u) => writeAll(u, size, concChunkMiB * MiB)));
    return { latMs: lat.flat(), work: concurrency * size };
  });
  await pool(uploads.length, concurrency, (i) => uploads[i].remove());
  return sample;
}

/** Upload-Length of the uploads (e) creates; they are deleted unwritten. */
const CREATED_LENGTH = MiB;

/** (e): upload creation throughput; undefined (n/a) for a target without a creation step. */
export async function runCreation(target: Target, ctx: RunContext): Promise<Sample | undefined> {
  const create = target.uploader.create?.bind(target.uploader);
  if (!create) return undefined;
  const { posts, postConcurrency } = ctx.cfg;
  const created: { ms: number; upload: { remove(): Promise<void> } }[] = [];
  const sample = await measured(target, 1, async () => {
    created.push(...(await pool(posts, postConcurrency, () => create(CREATED_LENGTH))));
    return { latMs: created.map((c) => c.ms), work: posts };
  });
  await pool(created.length, postConcurrency, (i) => created[i].upload.remove());
  return sample;
}

/** GiB written in a sample of an upload scenario (for CPU s/GiB and faults/GiB). */
export const gib = (s: Sample): number => s.work / GiB;
