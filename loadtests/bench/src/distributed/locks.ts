/**
 * Section 2, lock latency, in this process (no HTTP): sequential acquire + release of distinct ids
 * and of one id, for our RedisLocker (two ioredis connections, built as server/src/context.ts builds
 * it), our ProcessLocker and stock @tus/server's MemoryLocker; then release-on-contention handovers:
 * a holder whose `requestRelease` unlocks, and a waiter (for Redis on a second locker with its own
 * connections, i.e. another node) timed until it holds the lock.
 */
import { MemoryLocker, type Locker } from '@tus/server';
import { Redis } from 'ioredis';
import { ProcessLocker } from '@tus-edge/server';
import { RedisLocker } from '@tus-edge/server';
import { f0, f1, percentile, table } from '../stats.js';

export interface LockRow {
  label: string;
  /** Latencies in µs per case; absent when not measured. */
  distinct?: number[];
  same?: number[];
  /** Handover latencies in ms. */
  handover?: number[];
  handoverKind: string;
  /** The row the goals are read against (ours, across nodes). */
  hasGoal: boolean;
}

export interface LockResults {
  n: number;
  handovers: number;
  rows: LockRow[];
  errors: string[];
}

const never = new AbortController().signal;
const noop = () => undefined;

async function acquireRelease(locker: Locker, ids: (i: number) => string, n: number): Promise<number[]> {
  const us: number[] = [];
  for (let i = 0; i < n; i++) {
    const lock = locker.newLock(ids(i));
    const t0 = performance.now();
    await lock.lock(never, noop);
    await lock.unlock();
    us.push((performance.now() - t0) * 1000);
  }
  return us;
}

/** Holder on `a` lets go when asked; waiter on `b` is timed until it holds the lock. */
async function handovers(a: Locker, b: Locker, tries: number, prefix: string): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < tries; i++) {
    const id = `${prefix}-h${i}`;
    const holder = a.newLock(id);
    await holder.lock(never, () => void holder.unlock());
    const waiter = b.newLock(id);
    const t0 = performance.now();
    await waiter.lock(never, noop);
    ms.push(performance.now() - t0);
    await waiter.unlock();
  }
  return ms;
}

/** Runs section 2 against the Redis at `redisUrl`, filling `results.rows` as it goes. */
export async function runLockSection(redisUrl: string, results: LockResults, log: (msg: string) => void): Promise<void> {
  const connections: Redis[] = [];
  const lockers: RedisLocker[] = [];
  const redisNode = (): RedisLocker => {
    const connect = () => {
      const c = new Redis(redisUrl, { maxRetriesPerRequest: 2, enableOfflineQueue: true });
      connections.push(c);
      return c;
    };
    // As context.ts builds it: a command connection and a subscriber connection, 5 s TTL, 10 s acquire timeout.
    const locker = new RedisLocker({ redis: connect(), subscriber: connect(), prefix: 'bench-dist:', ttlMs: 5000, acquireTimeoutMs: 10_000 });
    lockers.push(locker);
    return locker;
  };
  const { n } = results;
  const warm = Math.min(200, n);
  try {
    const [redisA, redisB] = [redisNode(), redisNode()];
    const candidates: Array<{ label: string; locker: Locker; other?: Locker; handoverKind: string }> = [
      { label: 'ours RedisLocker (redlock, 2 connections)', locker: redisA, other: redisB, handoverKind: 'cross-node (locker A → locker B)' },
      { label: 'ours ProcessLocker', locker: new ProcessLocker(10_000), handoverKind: 'same process' },
      { label: 'stock @tus/server MemoryLocker', locker: new MemoryLocker(), handoverKind: 'same process' },
    ];
    for (const c of candidates) {
      const other = c.other ?? c.locker;
      const row: LockRow = { label: c.label, handoverKind: c.handoverKind, hasGoal: c.locker === redisA };
      results.rows.push(row);
      const tag = `${process.pid}-${results.rows.length}`;
      await acquireRelease(c.locker, (i) => `${tag}-w${i}`, warm);
      row.distinct = await acquireRelease(c.locker, (i) => `${tag}-d${i}`, n);
      row.same = await acquireRelease(c.locker, () => `${tag}-same`, n);
      await handovers(c.locker, other, Math.min(10, results.handovers), `${tag}-warm`);
      row.handover = await handovers(c.locker, other, results.handovers, tag);
      log(`locks ${c.label}: distinct p50 ${f0(percentile(row.distinct, 50))} µs, same p50 ${f0(percentile(row.same, 50))} µs, ` +
        `handover p50 ${f1(percentile(row.handover, 50))} ms`);
    }
  } catch (err) {
    results.errors.push((err as Error).message);
    log(`locks FAILED: ${(err as Error).message}`);
  } finally {
    for (const l of lockers) await l.close();
    for (const c of connections) c.disconnect();
  }
}

const us = (xs?: number[]) => (xs?.length ? `${f0(percentile(xs, 50))} / ${f0(percentile(xs, 99))}` : 'n/a');
const ms = (xs?: number[]) => (xs?.length ? `${f1(percentile(xs, 50))} / ${f1(percentile(xs, 99))}` : 'n/a');

/** The goal of the row that has one (ours, across nodes). */
export const LOCK_GOAL = 'p99 < 5000 µs; handover p99 < 1000 ms';

/** `met`, `MISSED`, `n/a` (not all measured) for the row with the goal; '' for the others. */
export function lockVerdict(r: LockRow): string {
  if (!r.hasGoal) return '';
  if (!r.distinct?.length || !r.same?.length || !r.handover?.length) return 'n/a';
  const ok = Math.max(percentile(r.distinct, 99), percentile(r.same, 99)) < 5000 && percentile(r.handover, 99) < 1000;
  return ok ? 'met' : 'MISSED';
}

/** The section-2 table. */
export function renderLocks(results: LockResults): string {
  const header = ['locker', 'distinct ids p50 / p99 µs', 'same id p50 / p99 µs', 'handover p50 / p99 ms', 'handover kind', 'goal', 'verdict'];
  const rows = results.rows.map((r) => [
    r.label, us(r.distinct), us(r.same), ms(r.handover), r.handoverKind, r.hasGoal ? LOCK_GOAL : 'floor', lockVerdict(r),
  ]);
  return [
    `2. Lock acquire + release latency (sequential, N=${results.n} per case after ${Math.min(200, results.n)} warm-up pairs; ` +
      `handover over ${results.handovers} tries: holder's requestRelease unlocks, waiter timed until it holds the lock)`,
    table([header, ...rows]),
    'Goals: RedisLocker acquire+release p99 < 5 ms (two Redis round trips: SET NX PX and the release script + PUBLISH); ' +
      'cross-node handover p99 < 1000 ms (the bound of redis-locker.test.ts; a stalled PATCH must let a reconnecting client in at once). ' +
      'The in-process lockers are the floor.',
    ...results.errors.map((e) => `ERROR: ${e}`),
  ].join('\n');
}
