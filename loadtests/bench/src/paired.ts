/**
 * The paired part of `npm run bench` (`npm run bench:paired` alone): every tus target measured with
 * clients that are not this project's — a plain `node:http` keep-alive client that sends each PATCH
 * as one Buffer (`req.end(buf)`), and tus-js-client (Node, Buffer input) — alternating targets within
 * each run (the order rotates run by run), so background load on the shared machine hits every target
 * alike. Each measured run gives one ratio per target against stock @tus/server + @tus/file-store
 * (same client, same run): the table reports the median of those paired ratios with their range.
 * The client's own CPU per GiB is measured too: client and server share the 2 cores, so a client that
 * burns more CPU leaves less to the server, which is most of the gap between the two clients.
 *
 *   BENCH_PAIRED_SIZE_MIB (1024)  BENCH_PAIRED_RUNS (5, after 1 warm-up)  BENCH_PAIRED_CHUNK_MIB (8)
 *   BENCH_PAIRED_CLIENTS (node-http,tus-js-client)  BENCH_PAIRED_TARGETS (stock,ours-fsync,ours-fsync-each,ours-nofsync)
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import * as tus from 'tus-js-client';
import type { ServeKind } from './serve.js';
import { f0, f2, median, MiB, spread, table } from './stats.js';
import type { HarnessOutcome, SummaryRow } from './summary.js';
import { Fleet } from './targets.js';

type ClientId = 'node-http' | 'tus-js-client';
type TargetId = 'stock' | 'ours-fsync' | 'ours-fsync-each' | 'ours-nofsync';

const LABELS: Record<TargetId, string> = {
  stock: 'stock @tus/server + file-store',
  'ours-fsync': 'ours default (FSYNC=true, background flush)',
  'ours-fsync-each': 'ours FSYNC_INTERVAL=0 (flush per PATCH)',
  'ours-nofsync': 'ours FSYNC=false',
};

export interface PairedConfig {
  sizeMiB: number;
  runs: number;
  chunkMiB: number;
  clients: ClientId[];
  targets: TargetId[];
}

export function pairedConfig(env: Record<string, string | undefined> = process.env): PairedConfig {
  const int = (name: string, def: number) => {
    const n = env[name] ? Number(env[name]) : def;
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name}="${env[name]}" must be a positive integer`);
    return n;
  };
  const list = <T extends string>(name: string, all: readonly T[]): T[] => {
    const items = (env[name] ?? all.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
    for (const i of items) if (!all.includes(i as T)) throw new Error(`${name}: unknown "${i}" (${all.join(', ')})`);
    return items as T[];
  };
  const targets = list<TargetId>('BENCH_PAIRED_TARGETS', ['stock', 'ours-fsync', 'ours-fsync-each', 'ours-nofsync']);
  if (!targets.includes('stock')) targets.unshift('stock'); // the ratios are against it
  return {
    sizeMiB: int('BENCH_PAIRED_SIZE_MIB', 1024),
    runs: int('BENCH_PAIRED_RUNS', 5),
    chunkMiB: int('BENCH_PAIRED_CHUNK_MIB', 8),
    clients: list<ClientId>('BENCH_PAIRED_CLIENTS', ['node-http', 'tus-js-client']),
    targets,
  };
}

const agent = new http.Agent({ keepAlive: true });

function request(url: string, method: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: { 'Tus-Resumable': '1.0.0', ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The plain client: POST, then PATCHes of `chunk` bytes each sent as one Buffer. Returns the upload URL. */
async function plainUpload(endpoint: string, data: Buffer, chunk: number): Promise<string> {
  const created = await request(endpoint, 'POST', { 'Upload-Length': String(data.length) });
  if (created.status !== 201) throw new Error(`POST: ${created.status}`);
  const url = new URL(String(created.headers.location), endpoint).toString();
  for (let offset = 0; offset < data.length; ) {
    const body = data.subarray(offset, Math.min(data.length, offset + chunk));
    const res = await request(url, 'PATCH', { 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' }, body);
    if (res.status !== 204) throw new Error(`PATCH at ${offset}: ${res.status}`);
    offset = Number(res.headers['upload-offset']);
  }
  return url;
}

/** tus-js-client with its defaults, but no retries (a failure must show) and no fingerprint store. */
function tusJsUpload(endpoint: string, data: Buffer, chunk: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(data, {
      endpoint,
      chunkSize: chunk,
      retryDelays: [],
      storeFingerprintForResuming: false,
      metadata: { filename: 'bench.bin' },
      onError: reject,
      onSuccess: () => resolve(upload.url!),
    });
    upload.start();
  });
}

const CLIENTS: Record<ClientId, (endpoint: string, data: Buffer, chunk: number) => Promise<string>> = {
  'node-http': plainUpload,
  'tus-js-client': tusJsUpload,
};

interface Cell {
  rates: number[];
  /** Paired ratios against stock, one per measured run. */
  ratios: number[];
  /** Client CPU seconds per GiB. */
  clientCpu: number[];
}

/** Runs the paired part; `abort()` stops every server it started. */
export function startPaired(cfg: PairedConfig): { done: Promise<HarnessOutcome>; abort(): Promise<void> } {
  const fleet = new Fleet(undefined, []);
  const done = (async (): Promise<HarnessOutcome> => {
    const data = randomBytes(cfg.sizeMiB * MiB);
    const servers = new Map<TargetId, string>();
    for (const t of cfg.targets) servers.set(t, (await fleet.fork(t as ServeKind)).url);
    const scenarios = [
      { name: `(P8) ${cfg.sizeMiB} MiB in ${cfg.chunkMiB} MiB PATCHes, paired`, chunk: cfg.chunkMiB * MiB },
      { name: `(P1) ${cfg.sizeMiB} MiB in one PATCH, paired`, chunk: cfg.sizeMiB * MiB },
    ];
    const summary: SummaryRow[] = [];
    const started = Date.now();
    for (const sc of scenarios) {
      const cells = new Map<string, Cell>();
      const cellOf = (c: ClientId, t: TargetId) => {
        const key = `${c}|${t}`;
        if (!cells.has(key)) cells.set(key, { rates: [], ratios: [], clientCpu: [] });
        return cells.get(key)!;
      };
      for (let run = 0; run <= cfg.runs; run++) {
        for (const client of cfg.clients) {
          const order = cfg.targets.map((_, i) => cfg.targets[(i + run) % cfg.targets.length]);
          const rates = new Map<TargetId, number>();
          for (const t of order) {
            const endpoint = servers.get(t)!;
            const cpu0 = process.cpuUsage();
            const t0 = performance.now();
            const url = await CLIENTS[client](endpoint, data, sc.chunk);
            const seconds = (performance.now() - t0) / 1000;
            const cpu = process.cpuUsage(cpu0);
            await request(url, 'DELETE', {}).catch(() => undefined);
            if (run === 0) continue; // warm-up
            rates.set(t, cfg.sizeMiB / seconds);
            cellOf(client, t).rates.push(cfg.sizeMiB / seconds);
            cellOf(client, t).clientCpu.push((cpu.user + cpu.system) / 1e6 / (cfg.sizeMiB / 1024));
          }
          if (run === 0) continue;
          for (const t of cfg.targets) cellOf(client, t).ratios.push(rates.get(t)! / rates.get('stock')!);
        }
      }
      // The detailed table of this scenario, and the explanation of the clients' gap.
      const rows = [['client', 'target', 'MiB/s median (min–max)', 'vs stock, median of paired ratios (min–max)', 'client CPU s/GiB']];
      for (const client of cfg.clients) {
        for (const t of cfg.targets) {
          const c = cellOf(client, t);
          rows.push([client, LABELS[t], spread(c.rates), t === 'stock' ? '' : `${spread(c.ratios, f2)}×`, f2(median(c.clientCpu))]);
          summary.push({
            scenario: sc.name, target: `${LABELS[t]} ← ${client}`, rates: c.rates, unit: 'MiB/s',
            vsStock: t === 'stock' ? undefined : median(c.ratios),
            note: t === 'stock' ? `client CPU ${f2(median(c.clientCpu))} s/GiB` : `paired ratios ${spread(c.ratios, f2)}; client CPU ${f2(median(c.clientCpu))} s/GiB`,
          });
        }
      }
      console.log(`\n${sc.name}: ${cfg.runs} measured runs after 1 warm-up, targets alternating\n\n${table(rows)}`);
      if (cfg.clients.length === 2) console.log(explainGap(cfg, cellOf));
    }
    console.log(`\npaired part: ${f0((Date.now() - started) / 1000)} s`);
    await fleet.killAll();
    return { summary, timedOut: false };
  })();
  return { done, abort: () => fleet.killAll() };
}

/** Says, from the numbers, how far the two clients disagree and how much of it the client's CPU explains. */
function explainGap(cfg: PairedConfig, cellOf: (c: ClientId, t: TargetId) => Cell): string {
  const [a, b] = cfg.clients;
  const lines = [`gap between ${a} and ${b}:`];
  for (const t of cfg.targets) {
    const ra = median(cellOf(a, t).rates);
    const rb = median(cellOf(b, t).rates);
    const ca = median(cellOf(a, t).clientCpu);
    const cb = median(cellOf(b, t).clientCpu);
    lines.push(
      `  ${LABELS[t]}: ${b} ${f2(rb / ra)}× the rate of ${a}; client CPU ${f2(cb)} vs ${f2(ca)} s/GiB ` +
        `(${f2(cb - ca)} s/GiB more taken from the 2 cores the server shares)`,
    );
  }
  const ours = cfg.targets.filter((t) => t !== 'stock');
  for (const t of ours) {
    lines.push(`  ${LABELS[t]} vs stock: ${f2(median(cellOf(a, t).ratios))}× with ${a}, ${f2(median(cellOf(b, t).ratios))}× with ${b}`);
  }
  return lines.join('\n');
}
