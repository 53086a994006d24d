/**
 * `npm run bench:auth`: what authentication costs on the PATCH path and on creation. Two servers run
 * side by side (`node server/dist/main.js`, embedded, FSYNC off so the disk does not drown the
 * difference): one with `AUTH_MODE=none`, one with `AUTH_MODE=jwt` (HS256, rate limits off). The
 * benchmark's plain node:http keep-alive client sends the same requests to both, alternating request
 * by request, so both see the same machine load; each setting's rate is its bytes (or creations) over
 * the sum of its own request times. Reports median (min–max) over runs.
 *
 * BENCH_AUTH_RUNS (default 5), BENCH_AUTH_SIZE_MIB (default 128, in 8 MiB PATCHes),
 * BENCH_AUTH_SMALL_MIB (default 16, in 256 KiB PATCHes), BENCH_AUTH_POSTS (default 300; also 16 concurrent).
 */
import { AUTH_ENV, spawnServer, TUS, userToken, type SpawnedServer } from '@tus-edge/testkit';
import { expectStatus, HttpClient, Payload } from './client.js';
import { f0, MiB, median, ratio, spread, table } from './stats.js';

const RUNS = Number(process.env.BENCH_AUTH_RUNS ?? 5);
const SIZE = Number(process.env.BENCH_AUTH_SIZE_MIB ?? 128) * MiB;
const SMALL = Number(process.env.BENCH_AUTH_SMALL_MIB ?? 16) * MiB;
const POSTS = Number(process.env.BENCH_AUTH_POSTS ?? 300);
const MODES = ['none', 'jwt'] as const;
type Mode = (typeof MODES)[number];
interface Target { server: SpawnedServer; auth: Record<string, string> }
type Sample = Record<'big' | 'small' | 'seq' | 'conc', number>;

/** Uploads `size` bytes in `chunk` PATCHes to both targets, alternating; MiB/s of each over its own request time. */
async function pairedUpload(http: HttpClient, targets: Record<Mode, Target>, size: number, chunk: number): Promise<Record<Mode, number>> {
  const urls = {} as Record<Mode, string>;
  const spent = { none: 0, jwt: 0 };
  for (const mode of MODES) {
    const { server, auth } = targets[mode];
    const created = await http.request(server.tusUrl, 'POST', { ...TUS, ...auth, 'Upload-Length': String(size) });
    expectStatus(created, 201, `${mode} POST`);
    urls[mode] = String(created.headers.location);
  }
  for (let offset = 0, i = 0; offset < size; offset += chunk, i++) {
    const n = Math.min(chunk, size - offset);
    for (const mode of i % 2 ? [...MODES].reverse() : MODES) {
      const r = await http.request(urls[mode], 'PATCH', { ...TUS, ...targets[mode].auth, 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(offset) }, { offset, n });
      expectStatus(r, 204, `${mode} PATCH`);
      spent[mode] += r.ms;
    }
  }
  for (const mode of MODES) await http.request(urls[mode], 'DELETE', { ...TUS, ...targets[mode].auth });
  return { none: size / MiB / (spent.none / 1000), jwt: size / MiB / (spent.jwt / 1000) };
}

/** `n` creations per target, `concurrency` at a time, alternating batches; creations/s of each over its own time. */
async function pairedCreations(http: HttpClient, targets: Record<Mode, Target>, n: number, concurrency: number): Promise<Record<Mode, number>> {
  const spent = { none: 0, jwt: 0 };
  for (let done = 0, i = 0; done < n; done += concurrency, i++) {
    const batch = Math.min(concurrency, n - done);
    for (const mode of i % 2 ? [...MODES].reverse() : MODES) {
      const { server, auth } = targets[mode];
      const started = performance.now();
      await Promise.all(Array.from({ length: batch }, async () =>
        expectStatus(await http.request(server.tusUrl, 'POST', { ...TUS, ...auth, 'Upload-Length': '1' }), 201, `${mode} POST`)));
      spent[mode] += performance.now() - started;
    }
  }
  return { none: n / (spent.none / 1000), jwt: n / (spent.jwt / 1000) };
}

async function main(): Promise<void> {
  const [none, jwt] = await Promise.all([
    spawnServer({ FSYNC: 'false', LOG_LEVEL: 'error' }),
    spawnServer({ ...AUTH_ENV, RATE_LIMIT_REQUESTS: '0', RATE_LIMIT_CREATIONS: '0', FSYNC: 'false', LOG_LEVEL: 'error' }),
  ]);
  const http = new HttpClient(new Payload(Buffer.alloc(8 * MiB, 7)));
  const targets: Record<Mode, Target> = {
    none: { server: none, auth: {} },
    jwt: { server: jwt, auth: { Authorization: `Bearer ${await userToken('bench', { expiresIn: 7200 })}` } },
  };
  const samples: Record<Mode, Sample[]> = { none: [], jwt: [] };
  try {
    await pairedUpload(http, targets, 8 * MiB, MiB); // warm-up
    for (let i = 0; i < RUNS; i++) {
      const big = await pairedUpload(http, targets, SIZE, 8 * MiB);
      const small = await pairedUpload(http, targets, SMALL, 256 * 1024);
      const seq = await pairedCreations(http, targets, POSTS, 1);
      const conc = await pairedCreations(http, targets, POSTS, 16);
      for (const mode of MODES) samples[mode].push({ big: big[mode], small: small[mode], seq: seq[mode], conc: conc[mode] });
      process.stderr.write(`run ${i + 1}/${RUNS}: ${JSON.stringify(samples, (_k, v) => (typeof v === 'number' ? Math.round(v) : v))}\n`);
    }
  } finally {
    http.close();
    await Promise.all([none.terminate(), jwt.terminate()]);
  }
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
