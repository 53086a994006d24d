/**
 * `npm run bench:auth`: what authentication costs on the PATCH path and on creation. The same server
 * (`node server/dist/main.js`, embedded, FSYNC off so the disk does not drown the difference) is run
 * with `AUTH_MODE=none` and with `AUTH_MODE=jwt` (HS256, rate limits off), alternating run by run, and
 * driven by the benchmark's plain node:http keep-alive client. Reports median (min–max) per setting.
 *
 * BENCH_AUTH_RUNS (default 5), BENCH_AUTH_SIZE_MIB (default 256, sent in 8 MiB PATCHes),
 * BENCH_AUTH_SMALL_MIB (default 32, sent in 256 KiB PATCHes), BENCH_AUTH_POSTS (default 400).
 */
import { AUTH_ENV, spawnServer, userToken, type SpawnedServer } from '@tus-edge/testkit';
import { expectStatus, HttpClient } from './client.js';
import { f0, MiB, ratio, median, spread, table } from './stats.js';

const RUNS = Number(process.env.BENCH_AUTH_RUNS ?? 5);
const SIZE = Number(process.env.BENCH_AUTH_SIZE_MIB ?? 256) * MiB;
const SMALL = Number(process.env.BENCH_AUTH_SMALL_MIB ?? 32) * MiB;
const POSTS = Number(process.env.BENCH_AUTH_POSTS ?? 400);
const TUS = { 'Tus-Resumable': '1.0.0' };

type Mode = 'none' | 'jwt';
interface Sample { big: number; small: number; seq: number; conc: number }

async function upload(http: HttpClient, server: SpawnedServer, auth: Record<string, string>, size: number, chunk: number): Promise<number> {
  const created = await http.request(server.tusUrl, 'POST', { ...TUS, ...auth, 'Upload-Length': String(size) });
  expectStatus(created, 201, 'POST');
  const url = String(created.headers.location);
  const started = performance.now();
  for (let offset = 0; offset < size; offset += chunk) {
    const n = Math.min(chunk, size - offset);
    const r = await http.request(url, 'PATCH', { ...TUS, ...auth, 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(offset) }, n);
    expectStatus(r, 204, 'PATCH');
  }
  const mibs = size / MiB / ((performance.now() - started) / 1000);
  await http.request(url, 'DELETE', { ...TUS, ...auth });
  return mibs;
}

async function creations(http: HttpClient, server: SpawnedServer, auth: Record<string, string>, n: number, concurrency: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < n) expectStatus(await http.request(server.tusUrl, 'POST', { ...TUS, ...auth, 'Upload-Length': '1' }), 201, 'POST');
  }));
  return n / ((performance.now() - started) / 1000);
}

async function run(mode: Mode, http: HttpClient): Promise<Sample> {
  const env = mode === 'jwt' ? { ...AUTH_ENV, RATE_LIMIT_REQUESTS: '0', RATE_LIMIT_CREATIONS: '0' } : {};
  const server = await spawnServer({ ...env, FSYNC: 'false', LOG_LEVEL: 'error' });
  try {
    const auth: Record<string, string> = mode === 'jwt' ? { Authorization: `Bearer ${await userToken('bench', { expiresIn: 3600 })}` } : {};
    await upload(http, server, auth, 8 * MiB, MiB); // warm-up
    return {
      big: await upload(http, server, auth, SIZE, 8 * MiB),
      small: await upload(http, server, auth, SMALL, 256 * 1024),
      seq: await creations(http, server, auth, POSTS, 1),
      conc: await creations(http, server, auth, POSTS, 16),
    };
  } finally {
    await server.terminate();
  }
}

async function main(): Promise<void> {
  const http = new HttpClient(Buffer.alloc(8 * MiB, 7));
  const samples: Record<Mode, Sample[]> = { none: [], jwt: [] };
  for (let i = 0; i < RUNS; i++) {
    for (const mode of (i % 2 ? ['jwt', 'none'] : ['none', 'jwt']) as Mode[]) {
      samples[mode].push(await run(mode, http));
      process.stderr.write(`run ${i + 1}/${RUNS} ${mode}: ${JSON.stringify(samples[mode].at(-1), (_k, v) => (typeof v === 'number' ? Math.round(v) : v))}\n`);
    }
  }
  http.close();
  const col = (mode: Mode, k: keyof Sample) => samples[mode].map((s) => s[k]);
  const row = (what: string, k: keyof Sample) => [what, spread(col('none', k), f0), spread(col('jwt', k), f0), ratio(median(col('jwt', k)), median(col('none', k)))];
  process.stdout.write(`${table([
    ['what (median (min–max) over runs)', 'AUTH_MODE=none', 'AUTH_MODE=jwt', 'jwt/none'],
    row(`PATCH MiB/s, ${SIZE / MiB} MiB in 8 MiB PATCHes`, 'big'),
    row(`PATCH MiB/s, ${SMALL / MiB} MiB in 256 KiB PATCHes`, 'small'),
    row(`POST creations/s, sequential (${POSTS})`, 'seq'),
    row(`POST creations/s, 16 concurrent (${POSTS})`, 'conc'),
  ])}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
