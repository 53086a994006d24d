/**
 * Settings of `npm run bench:distributed` (and of the distributed part of `npm run bench`, which
 * shares BENCH_RUNS, BENCH_CPU_PROF and BENCH_TIMEOUT_S with the file part): the only module that reads
 * these BENCH_* variables (the server children read theirs through the server's config/env.ts).
 * Every variable is optional; an invalid value stops the run with a message naming the variable.
 *
 *   BENCH_SECTIONS        comma list of 1,2,3 (or s3,locks,create); default all
 *   BENCH_S3_SIZE_MIB     bytes per upload in section 1, MiB (default 1024)
 *   BENCH_RUNS            measured runs per row in section 1, after one warm-up round (default 3)
 *   BENCH_S3_ROWS         comma list of section-1 rows (default all; see S3_ROWS in s3-throughput.ts)
 *   BENCH_PART_SIZE       S3_PART_SIZE of our server (default 16MiB, the server's own default)
 *   BENCH_STACK           1 (default): section 1 also runs our server on the local stack (testing/stack.ts:
 *                         3 nodes behind nginx round-robin, NATS, the same Swift as every other row);
 *                         0 skips those rows and the stack (a quick run stays quick)
 *   BENCH_LOCK_N          acquire+release pairs per locker and case in section 2 (default 2000)
 *   BENCH_HANDOVERS       release-on-contention handovers per locker in section 2 (default 200)
 *   BENCH_CREATE_SECONDS  length of each creation-rate run in section 3 (default 5)
 *   BENCH_CREATE_FILE     1 (default): section 3 also measures the embedded file storages; 0 skips them
 *   BENCH_CPU_PROF        directory: run every server child under `node --cpu-prof`, profiles written there
 *   BENCH_S3_TRACE        1: time every S3 call (server children and the SDK rows) and print S3 calls per
 *                         upload under section 1; our server's S3 storage is then built here (as
 *                         context.ts builds it) on a timed client. Diagnostics; default 0
 *   BENCH_TIMEOUT_S       watchdog of this part (default 900 = 15 min): prints partial results and stops;
 *                         the command then exits 2
 */

export const SECTION_IDS = ['1', '2', '3'] as const;
export type SectionId = (typeof SECTION_IDS)[number];
const SECTION_ALIASES: Record<string, SectionId> = { s3: '1', locks: '2', create: '3' };

export interface DistBenchConfig {
  sections: SectionId[];
  sizeMiB: number;
  runs: number;
  /** Section-1 row ids to run; empty means all. */
  s3Rows: string[];
  /** Our server's S3_PART_SIZE, as given (e.g. `16MiB`). */
  partSize: string;
  /** Section 1 also measures our server on the local multi-node stack (BENCH_STACK). */
  stack: boolean;
  lockN: number;
  handovers: number;
  createSeconds: number;
  createFile: boolean;
  cpuProfDir: string | undefined;
  s3Trace: boolean;
  timeoutS: number;
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < min || n > max) throw new Error(`${name}="${raw}" must be an integer from ${min} to ${max}`);
  return n;
}

function list(env: Env, name: string): string[] {
  return (env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** Reads the BENCH_* variables of `env` (default `process.env`). */
export function distBenchConfig(env: Env = process.env): DistBenchConfig {
  const sections = list(env, 'BENCH_SECTIONS').map((s) => {
    const id = SECTION_ALIASES[s] ?? s;
    if (!(SECTION_IDS as readonly string[]).includes(id)) throw new Error(`BENCH_SECTIONS: unknown section "${s}" (1,2,3 or s3,locks,create)`);
    return id as SectionId;
  });
  const partSize = env.BENCH_PART_SIZE?.trim() || '16MiB';
  if (!/^\d+(\.\d+)?\s*([kmg]i?b?)?$/i.test(partSize)) throw new Error(`BENCH_PART_SIZE="${partSize}" is not a size such as 16MiB`);
  const flag = (name: string, def: '0' | '1') => {
    const v = env[name]?.trim() || def;
    if (v !== '0' && v !== '1') throw new Error(`${name}="${env[name]}" must be 0 or 1`);
    return v === '1';
  };
  return {
    sections: sections.length ? [...new Set(sections)].sort() : [...SECTION_IDS],
    sizeMiB: int(env, 'BENCH_S3_SIZE_MIB', 1024, 16, 16384),
    runs: int(env, 'BENCH_RUNS', 3, 1, 50),
    s3Rows: list(env, 'BENCH_S3_ROWS'),
    partSize,
    stack: flag('BENCH_STACK', '1'),
    lockN: int(env, 'BENCH_LOCK_N', 2000, 10, 1_000_000),
    handovers: int(env, 'BENCH_HANDOVERS', 200, 1, 100_000),
    createSeconds: int(env, 'BENCH_CREATE_SECONDS', 5, 1, 600),
    createFile: flag('BENCH_CREATE_FILE', '1'),
    cpuProfDir: env.BENCH_CPU_PROF || undefined,
    s3Trace: flag('BENCH_S3_TRACE', '0'),
    timeoutS: int(env, 'BENCH_TIMEOUT_S', 900, 10, 86_400),
  };
}
