/**
 * The periodic sweep's cost on Redis records, old way against new, in this process: N records (0.1 %
 * unfinished, the rest finished with their event recorded: what a long-lived deployment holds), then
 * the sweep's question "which records need me?" answered by SCAN + GET of every record (before
 * `due` existed) and by `RedisRecordStore.due` (one ZRANGEBYSCORE). Every node asks it every
 * EXPIRY_SWEEP_INTERVAL. Run: `node loadtests/bench/dist/distributed/sweep.js [N]` (default 100000).
 */
import { Redis } from 'ioredis';
import { RedisKvStore } from '@tus-edge/server';
import { RedisRecordStore } from '@tus-edge/server';
import { sweepAt, type UploadRecord } from '@tus-edge/server';
import { startRedis } from '@tus-edge/testkit';

const HOUR = 3_600_000;
const n = Number(process.argv[2] ?? 100_000);
const server = await startRedis();
const redis = new Redis(server.url);
try {
  const now = Date.now();
  const store = new RedisRecordStore(redis, 'sweep:', HOUR);
  const started = performance.now();
  for (let i = 0; i < n; i += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, n - i) }, (_, j) => {
        const id = `u${i + j}`;
        const at = new Date(now).toISOString();
        const record: UploadRecord = (i + j) % 1000 === 0
          ? { id, metadata: {}, createdAt: at, updatedAt: at, expiresAt: new Date(now + HOUR).toISOString() }
          : { id, metadata: {}, createdAt: at, updatedAt: at, completedAt: at, eventRecordedAt: at };
        return store.set(id, record);
      }),
    );
  }
  console.log(`${n} records written in ${((performance.now() - started) / 1000).toFixed(1)} s; asking at expiry + 1 h`);
  await store.due(0); // the one-time indexing check, outside the timings
  const later = now + 2 * HOUR;
  const cases: Array<[string, () => Promise<number>]> = [
    ['SCAN + GET of every record (before)', async () => {
      const kv = new RedisKvStore<UploadRecord>(redis, 'sweep:record:');
      let due = 0;
      for (const id of await kv.list()) {
        const record = await kv.get(id);
        const at = record && sweepAt(record, HOUR);
        if (at !== undefined && at <= later) due++;
      }
      return due;
    }],
    ['RedisRecordStore.due (ZRANGEBYSCORE)', async () => (await store.due(later)).length],
  ];
  for (const [label, run] of cases) {
    const t = performance.now();
    const due = await run();
    console.log(`${label.padEnd(40)} ${due} due  ${(performance.now() - t).toFixed(1)} ms`);
  }
} finally {
  redis.disconnect();
  await server.stop();
}
