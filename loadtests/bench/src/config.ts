/**
 * The benchmark's settings: the only module of the benchmark that reads `process.env`. Every variable
 * is optional; an invalid value stops the run with a message naming the variable.
 *
 *   BENCH_SCENARIOS        comma list of a,b,c,d,e (or single,chunks,repeat,concurrent,create); default all
 *   BENCH_SIZE_MIB         bytes per upload in (a), (b), (c), MiB (default 1024)
 *   BENCH_RUNS             measured runs per target and scenario, after one warm-up run (default 3)
 *   BENCH_CHUNK_MIB        PATCH size of (b) and (c) (default 8)
 *   BENCH_REPEAT           back-to-back chunked runs on one long-lived instance in (c) (default 20; 0 skips (c))
 *   BENCH_CONCURRENCY      parallel uploads in (d) (default 64)
 *   BENCH_CONC_SIZE_MIB    size of each upload in (d) (default 16)
 *   BENCH_CONC_CHUNK_MIB   PATCH size in (d) (default 4)
 *   BENCH_POSTS            upload creations per run in (e) (default 2000)
 *   BENCH_POST_CONCURRENCY creations in flight in (e) (default 32)
 *   BENCH_TARGETS          comma list of discard,sink,stock,ours-nofsync,ours-fsync (default all)
 *   BENCH_REPEAT_TARGETS   targets of (c) (default ours-fsync,ours-nofsync,stock)
 *   BENCH_CPU_PROF         directory: run every server process with `node --cpu-prof` writing there
 *   BENCH_NODE_ARGS        extra node flags for the server processes, e.g. "--trace-gc"
 *   BENCH_PREWARM          1 (default): before each timed upload the client writes and unlinks a scratch
 *                          file of the same size; 0: no scratch file (see prewarm() in client.ts)
 *   BENCH_TIMEOUT_S        watchdog (default 840): prints what was measured and stops; the command then
 *                          exits 2 (`npm run bench` first runs the distributed part, with its own watchdog)
 */
import { TARGET_IDS } from './targets.js';

export const SCENARIO_IDS = ['a', 'b', 'c', 'd', 'e'] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];
const SCENARIO_ALIASES: Record<string, ScenarioId> = {
  single: 'a', chunks: 'b', repeat: 'c', concurrent: 'd', create: 'e',
};

export interface BenchConfig {
  scenarios: ScenarioId[];
  sizeMiB: number;
  runs: number;
  chunkMiB: number;
  repeat: number;
  concurrency: number;
  concSizeMiB: number;
  concChunkMiB: number;
  posts: number;
  postConcurrency: number;
  targets: string[];
  repeatTargets: string[];
  cpuProfDir: string | undefined;
  nodeArgs: string[];
  prewarm: boolean;
  timeoutS: number;
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, def: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}="${raw}" must be an integer >= ${min}`);
  return n;
}

function list<T extends string>(env: Env, name: string, def: readonly T[], allowed: readonly string[], alias: Record<string, T> = {}): T[] {
  const raw = env[name];
  if (!raw) return [...def];
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean).map((s) => alias[s] ?? s);
  for (const item of items) {
    if (!allowed.includes(item)) throw new Error(`${name}: unknown entry "${item}" (${allowed.join(', ')})`);
  }
  return [...new Set(items)] as T[];
}

export function benchConfig(env: Env = process.env): BenchConfig {
  const cfg: BenchConfig = {
    scenarios: list(env, 'BENCH_SCENARIOS', SCENARIO_IDS, SCENARIO_IDS, SCENARIO_ALIASES),
    sizeMiB: int(env, 'BENCH_SIZE_MIB', 1024, 1),
    runs: int(env, 'BENCH_RUNS', 3, 1),
    chunkMiB: int(env, 'BENCH_CHUNK_MIB', 8, 1),
    repeat: int(env, 'BENCH_REPEAT', 20, 0),
    concurrency: int(env, 'BENCH_CONCURRENCY', 64, 1),
    concSizeMiB: int(env, 'BENCH_CONC_SIZE_MIB', 16, 1),
    concChunkMiB: int(env, 'BENCH_CONC_CHUNK_MIB', 4, 1),
    posts: int(env, 'BENCH_POSTS', 2000, 1),
    postConcurrency: int(env, 'BENCH_POST_CONCURRENCY', 32, 1),
    targets: list(env, 'BENCH_TARGETS', TARGET_IDS, TARGET_IDS),
    repeatTargets: list(env, 'BENCH_REPEAT_TARGETS', ['ours-fsync', 'ours-nofsync', 'stock'], TARGET_IDS),
    cpuProfDir: env.BENCH_CPU_PROF || undefined,
    nodeArgs: (env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
    prewarm: env.BENCH_PREWARM !== '0',
    timeoutS: int(env, 'BENCH_TIMEOUT_S', 840, 1),
  };
  if (cfg.repeat === 0) cfg.scenarios = cfg.scenarios.filter((s) => s !== 'c');
  return cfg;
}
