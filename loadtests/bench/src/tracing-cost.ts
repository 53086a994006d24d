/**
 * `node loadtests/bench/dist/tracing-cost.js`: what tracing costs on the PATCH path. Three server
 * set-ups (tracing off; on, sampling 1 % of new traces; on, sampling all), each a real server process
 * (`server/dist/main.js`, file storage, FSYNC off so the disk does not drown the difference) exporting
 * to a local OTLP/HTTP receiver. A plain node:http keep-alive client creates one upload and sends
 * `TRACING_COST_PATCHES` sequential PATCHes of `TRACING_COST_CHUNK_KIB`; runs are interleaved
 * (off, 1 %, 100 %, off, …) so machine noise spreads over all three. Loopback only; bounded.
 * `TRACING_COST_REDIS=1` keeps records and locks in a local redis-server (started here), so each
 * traced PATCH also carries its Redis command spans (ioredis instrumentation) and crosses the breaker.
 */
import { tusRequest } from './http-client.js';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { spawnServer, startOtlpReceiver, startRedis } from '@tus-edge/testkit';
import { median, percentile } from './stats.js';

const PATCHES = Number(process.env.TRACING_COST_PATCHES ?? 300);
const CHUNK = Number(process.env.TRACING_COST_CHUNK_KIB ?? 64) * 1024;
const RUNS = Number(process.env.TRACING_COST_RUNS ?? 3);
const WITH_REDIS = process.env.TRACING_COST_REDIS === '1';

const MODES: Array<{ name: string; env: (endpoint: string) => Record<string, string> }> = [
  { name: 'off', env: () => ({}) },
  { name: 'on, 1 %', env: (e) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: e, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' }) },
  { name: 'on, 100 %', env: (e) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: e }) },
];


/** One run: per-PATCH latencies in ms. */
async function run(env: Record<string, string>): Promise<number[]> {
  const server = await spawnServer({ ...env, FSYNC: 'false', PROCESSORS_IN_PROCESS: 'false', LOG_LEVEL: 'warn' });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const chunk = randomBytes(CHUNK);
    const created = await tusRequest(agent, new URL(`${server.url}/files`), 'POST', { 'Upload-Length': String(CHUNK * PATCHES) });
    if (created.status !== 201) throw new Error(`POST answered ${created.status}`);
    const url = new URL(String(created.headers.location), server.url);
    const ms: number[] = [];
    for (let i = 0; i < PATCHES; i++) {
      const started = performance.now();
      const res = await tusRequest(agent, url, 'PATCH', { 'Upload-Offset': String(i * CHUNK), 'Content-Type': 'application/offset+octet-stream', 'Content-Length': String(CHUNK) }, chunk);
      ms.push(performance.now() - started);
      if (res.status !== 204) throw new Error(`PATCH ${i} answered ${res.status}`);
    }
    return ms.slice(Math.min(20, Math.floor(PATCHES / 10))); // the first ones warm the process up
  } finally {
    agent.destroy();
    await server.terminate();
  }
}

async function main(): Promise<void> {
  const receiver = await startOtlpReceiver();
  const redis = WITH_REDIS ? await startRedis() : undefined;
  let n = 0;
  const results = new Map<string, { p50: number[]; p90: number[] }>(MODES.map((m) => [m.name, { p50: [], p90: [] }]));
  try {
    for (let r = 0; r < RUNS; r++) {
      for (const mode of MODES) {
        const ms = await run({ ...mode.env(receiver.url), ...(redis ? { REDIS_URL: redis.url, REDIS_PREFIX: `bench${n++}:` } : {}) });
        results.get(mode.name)!.p50.push(median(ms));
        results.get(mode.name)!.p90.push(percentile(ms, 90));
      }
    }
  } finally {
    await receiver.close();
    await redis?.stop();
  }
  const fmt = (xs: number[]) => `${median(xs).toFixed(3)} (${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)})`;
  const base = median(results.get('off')!.p50);
  console.log(`PATCH cost with tracing: ${RUNS} runs × ${PATCHES} sequential PATCHes of ${CHUNK / 1024} KiB, node:http keep-alive client, file storage${redis ? ' + Redis records and locks' : ''}, FSYNC=false`);
  // Each round runs the three set-ups back to back: the ratio to that round's "off" run cancels most of
  // the machine's drift between rounds (a shared box), so its median is the steadier number.
  const off = results.get('off')!.p50;
  console.log('| tracing | PATCH p50 ms, median of runs (min–max) | p90 ms | p50 vs off | median of per-round p50 ratios |');
  console.log('|---|---|---|---|---|');
  for (const [name, r] of results) {
    const paired = median(r.p50.map((x, i) => x / off[i]));
    console.log(`| ${name} | ${fmt(r.p50)} | ${fmt(r.p90)} | ${(median(r.p50) / base).toFixed(2)}x | ${paired.toFixed(2)}x |`);
  }
  const names = new Map<string, number>();
  for (const span of receiver.spans) names.set(span.name, (names.get(span.name) ?? 0) + 1);
  console.log(`spans received by the OTLP receiver: ${receiver.spans.length} (${[...names].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, v]) => `${k} ${v}`).join(', ')})`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
