/**
 * Diagnostic timing of S3 calls (`BENCH_S3_TRACE=1`): an SDK middleware that counts each command and
 * sums its wall time (for UploadPart/PutObject that includes sending the body), so a run can say how
 * many ListParts, HeadObject... one upload cost and how long they took.
 */
import type { S3, S3Client } from '@aws-sdk/client-s3';
import { f0 } from '../stats.js';

/** Command name (without `Command`) → calls and summed milliseconds. */
export type S3CallStats = Record<string, { count: number; ms: number }>;

/** Adds the timing middleware to `client`; `stats` is updated in place. */
export function traceS3(client: S3 | S3Client, stats: S3CallStats): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const t0 = performance.now();
      try {
        return await next(args);
      } finally {
        const name = (context.commandName ?? 'unknown').replace(/Command$/, '');
        const s = (stats[name] ??= { count: 0, ms: 0 });
        s.count++;
        s.ms += performance.now() - t0;
      }
    },
    { step: 'initialize', name: 'benchS3Trace' },
  );
}

/** `after - before`, per command. */
export function diffStats(after: S3CallStats, before: S3CallStats): S3CallStats {
  const out: S3CallStats = {};
  for (const [name, a] of Object.entries(after)) {
    const b = before[name] ?? { count: 0, ms: 0 };
    if (a.count > b.count) out[name] = { count: a.count - b.count, ms: a.ms - b.ms };
  }
  return out;
}

/** Adds `x` into `into`. */
export function addStats(into: S3CallStats, x: S3CallStats): void {
  for (const [name, s] of Object.entries(x)) {
    const t = (into[name] ??= { count: 0, ms: 0 });
    t.count += s.count;
    t.ms += s.ms;
  }
}

/** `UploadPart 86× 140 ms avg, ListParts 172× 15 ms avg` per upload (stats summed over `runs`). */
export function formatStats(stats: S3CallStats, runs: number): string {
  return Object.entries(stats)
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([name, s]) => `${name} ${f0(s.count / runs)}× ${f0(s.ms / s.count)} ms avg`)
    .join(', ');
}
