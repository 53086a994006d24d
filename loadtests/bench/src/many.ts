/**
 * Many uploads on one node (`npm run bench:many`, and a part of `npm run bench`): N uploads at once,
 * each a slow client sending 256 KiB/s in 4 MiB PATCHes (a 64 KiB write every 250 ms), for a bounded
 * time, against one server process (default: ours, file storage, default durability). Reported: PATCH
 * answer latency (last body byte sent → response; the PATCH itself lasts 16 s at that rate), errors,
 * peak RSS, event-loop delay p99 and max, open file descriptors at the peak, and the bytes received.
 *
 *   BENCH_MANY_N (1000, a list like 1000,5000 runs each in turn)  BENCH_MANY_SECONDS (30)
 *   BENCH_MANY_TARGET (ours-fsync | ours-nofsync | stock)
 */
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import type { ServeKind } from './serve.js';
import { f0, f1, MiB, percentile, table } from './stats.js';
import type { HarnessOutcome, SummaryRow } from './summary.js';
import { Fleet } from './targets.js';

const RATE = 256 * 1024;
const TICK_MS = 250;
const CHUNK = 4 * MiB;
const UPLOAD = 64 * MiB;

export interface ManyConfig {
  counts: number[];
  seconds: number;
  target: 'ours-fsync' | 'ours-nofsync' | 'stock';
}

export function manyConfig(env: Record<string, string | undefined> = process.env): ManyConfig {
  const counts = (env.BENCH_MANY_N ?? '1000').split(',').map((s) => Number(s.trim()));
  if (counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`BENCH_MANY_N="${env.BENCH_MANY_N}" must list positive integers`);
  const seconds = Number(env.BENCH_MANY_SECONDS ?? 30);
  if (!(seconds >= 5)) throw new Error('BENCH_MANY_SECONDS must be at least 5');
  const target = (env.BENCH_MANY_TARGET ?? 'ours-fsync') as ManyConfig['target'];
  if (!['ours-fsync', 'ours-nofsync', 'stock'].includes(target)) throw new Error(`BENCH_MANY_TARGET="${target}" is not a target`);
  return { counts, seconds, target };
}

interface Outcome {
  latencies: number[];
  errors: Map<string, number>;
  bytes: number;
}

/** One slow client: creates an upload, then PATCHes 4 MiB at 256 KiB/s until `deadline`. */
async function slowClient(endpoint: string, agent: http.Agent, deadline: number, out: Outcome, tick: EventTarget): Promise<void> {
  const fail = (what: string): void => void out.errors.set(what, (out.errors.get(what) ?? 0) + 1);
  const created = await call(endpoint, 'POST', agent, { 'Upload-Length': String(UPLOAD) }).catch((e: Error) => ({ status: 0, error: e.message, offset: 0, ms: 0 }));
  if (created.status !== 201 || !('location' in created)) return fail(`POST ${created.status}`);
  const url = new URL(created.location as string, endpoint).toString();
  let offset = 0;
  const piece = Buffer.alloc((RATE * TICK_MS) / 1000, 7);
  while (Date.now() < deadline && offset < UPLOAD) {
    const n = Math.min(CHUNK, UPLOAD - offset);
    const result = await new Promise<{ status: number; offset: number; ms: number; error?: string }>((resolve) => {
      let lastByte = 0;
      const req = http.request(url, {
        method: 'PATCH', agent,
        headers: {
          'Tus-Resumable': '1.0.0', 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream',
          'Content-Length': String(n),
        },
      }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, offset: Number(res.headers['upload-offset']), ms: performance.now() - lastByte }));
      });
      req.on('error', (e) => resolve({ status: 0, offset, ms: 0, error: e.message }));
      let sent = 0;
      const onTick = () => {
        const k = Math.min(piece.length, n - sent);
        req.write(k === piece.length ? piece : piece.subarray(0, k));
        sent += k;
        if (sent >= n) {
          tick.removeEventListener('tick', onTick);
          lastByte = performance.now();
          req.end();
        }
      };
      tick.addEventListener('tick', onTick);
    });
    if (result.status !== 204) return fail(`PATCH ${result.status}${result.error ? ` ${result.error}` : ''}`);
    out.latencies.push(result.ms);
    out.bytes += result.offset - offset;
    offset = result.offset;
  }
  await call(url, 'DELETE', agent, {}).catch(() => undefined);
}

function call(url: string, method: string, agent: http.Agent, headers: Record<string, string>) {
  return new Promise<{ status: number; location?: string }>((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: { 'Tus-Resumable': '1.0.0', ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Runs the many-uploads part; `abort()` stops the server it started. */
export function startMany(cfg: ManyConfig): { done: Promise<HarnessOutcome>; abort(): Promise<void> } {
  const fleet = new Fleet(undefined, []);
  const done = (async (): Promise<HarnessOutcome> => {
    const summary: SummaryRow[] = [];
    const rows = [['uploads at once', 'PATCH answer p50/p99/max ms', 'errors', 'received MiB/s', 'peak RSS MiB', 'loop delay p99/max ms', 'fds at peak']];
    for (const n of cfg.counts) {
      const server = await fleet.fork(cfg.target as ServeKind);
      await server.resetPeak();
      const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
      const tick = new EventTarget();
      setMaxListeners(0, tick); // one listener per client
      const timer = setInterval(() => tick.dispatchEvent(new Event('tick')), TICK_MS);
      const out: Outcome = { latencies: [], errors: new Map(), bytes: 0 };
      const deadline = Date.now() + cfg.seconds * 1000;
      let fdsPeak = 0;
      const sampler = setInterval(() => void server.health().then((h) => (fdsPeak = Math.max(fdsPeak, h.fds)), () => undefined), 1000);
      const t0 = Date.now();
      // Clients start spread over the first second, as real ones would.
      await Promise.all(Array.from({ length: n }, (_, i) =>
        new Promise((r) => setTimeout(r, (i * 1000) / n)).then(() => slowClient(server.url, agent, deadline, out, tick))));
      const seconds = (Date.now() - t0) / 1000;
      clearInterval(timer);
      clearInterval(sampler);
      const health = await server.health();
      const usage = await server.usage();
      agent.destroy();
      await server.stop();
      const errors = [...out.errors].map(([k, v]) => `${v}× ${k}`).join(', ') || '0';
      const lat = out.latencies;
      rows.push([
        String(n), `${f1(percentile(lat, 50))} / ${f1(percentile(lat, 99))} / ${f1(Math.max(...lat))}`, errors,
        f0(out.bytes / MiB / seconds), f0(usage.maxRSS / 1024), `${f1(health.loopP99Ms)} / ${f1(health.loopMaxMs)}`, String(fdsPeak),
      ]);
      summary.push({
        scenario: `(M) ${n} uploads at once, 256 KiB/s each, 4 MiB PATCHes, ${cfg.seconds} s`, target: cfg.target,
        rates: [out.bytes / MiB / seconds], unit: 'MiB/s',
        latencyMs: { p50: percentile(lat, 50), p99: percentile(lat, 99) }, peakRssMiB: usage.maxRSS / 1024,
        verdict: [
          `${percentile(lat, 99) < 1000 ? 'met' : 'MISSED'} p99 < 1 s`, `${errors === '0' ? 'met' : 'MISSED'} no error`,
          `${usage.maxRSS / 1024 <= 512 ? 'met' : 'MISSED'} RSS ≤ 512 MiB`, `${health.loopP99Ms < 50 ? 'met' : 'MISSED'} loop p99 < 50 ms`,
        ].join('; '),
        note: `errors ${errors}; loop delay p99 ${f1(health.loopP99Ms)} ms; ${fdsPeak} fds at peak`,
      });
    }
    console.log(`\n(M) many uploads on one node (${cfg.target}), each 256 KiB/s in 4 MiB PATCHes, ${cfg.seconds} s\n\n${table(rows)}`);
    await fleet.killAll();
    return { summary, timedOut: false };
  })();
  return { done, abort: () => fleet.killAll() };
}
