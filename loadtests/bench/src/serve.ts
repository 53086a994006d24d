/**
 * Server side of the benchmark: the entry of each child process `targets.ts` forks, as
 * `node serve.js <kind>`. It starts one server on 127.0.0.1 with a fresh data dir under os.tmpdir(),
 * reports `{ type: 'ready', url, dir }` over IPC, and then answers:
 *
 *   { type: 'usage', id }       → { type: 'usage', id, user, system, faults, maxRSS }  (process.resourceUsage())
 *   { type: 'reset-peak', id }  → { type: 'reset-peak', id, ok }  (peak RSS and event-loop delay restart)
 *   { type: 'health', id }      → { type: 'health', id, loopP99Ms, loopMaxMs, fds, rssMiB }
 *   { type: 'stop' }            → { type: 'stopped', leftover }, removes its data dir, exits 0
 *
 * A disconnected parent counts as 'stop'. Exiting normally also writes the `--cpu-prof` profile.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pipeline } from 'node:stream';
import { listenLoopback } from './http.js';

/**
 * What a child process can serve. An S3-backed stock server would be one more kind here.
 * Import only the type from this module: importing a value would run a server in the importer.
 */
export type ServeKind = 'sink' | 'sink-fsync' | 'discard' | 'stock' | 'ours-nofsync' | 'ours-fsync' | 'ours-fsync-each';
const SERVE_KINDS: readonly ServeKind[] = ['sink', 'sink-fsync', 'discard', 'stock', 'ours-nofsync', 'ours-fsync', 'ours-fsync-each'];

interface ServeHandle {
  url: string;
  stop(): Promise<void>;
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * The raw limit: `PUT /sink/<name>` pipes the body into `fs.createWriteStream` (header `X-Append: 1`
 * appends), `DELETE` unlinks. With `discard`, every body goes to /dev/null instead of a file: the same
 * code minus the disk, i.e. what loopback HTTP alone costs. With `fsync`, each body is flushed to the
 * disk (fdatasync) before the reply, as our server does with FSYNC=true: the durable limit.
 * createWriteStream's 16 KiB default
 * highWaterMark makes it a naive limit (one small write per socket chunk): a well-batched server can
 * beat the file sink.
 */
async function serveSink(dir: string, mode: 'file' | 'fsync' | 'discard'): Promise<ServeHandle> {
  const discard = mode === 'discard';
  const server = http.createServer((req, res) => {
    const m = /^\/sink\/([a-z0-9-]+)$/.exec(req.url ?? '');
    const reply = (status: number, text = '') => {
      res.writeHead(status, { 'Content-Length': String(Buffer.byteLength(text)) });
      res.end(text);
    };
    if (!m) return reply(404);
    const file = discard ? '/dev/null' : path.join(dir, m[1]);
    if (req.method === 'PUT') {
      const out = fs.createWriteStream(file, { flags: req.headers['x-append'] === '1' ? 'a' : 'w', flush: mode === 'fsync' });
      pipeline(req, out, (err) => (err ? reply(500, String(err)) : reply(204)));
    } else if (req.method === 'DELETE') {
      if (discard) return reply(204);
      fsp.unlink(file).then(() => reply(204), (err) => reply(500, String(err)));
    } else reply(405);
  });
  const url = await listenLoopback(server);
  return { url: `${url}/sink`, stop: () => closeServer(server) };
}

/** Stock `@tus/server` + `@tus/file-store` on plain node:http, all defaults. */
async function serveStock(dir: string): Promise<ServeHandle> {
  const { Server } = await import('@tus/server');
  const { FileStore } = await import('@tus/file-store');
  const tus = new Server({ path: '/files', datastore: new FileStore({ directory: dir }) });
  const server = http.createServer((req, res) => tus.handle(req, res));
  const url = await listenLoopback(server);
  return { url: `${url}/files`, stop: () => closeServer(server) };
}

/**
 * This server, started with its own start function and otherwise default settings. `fsyncEach`: the
 * flush before every 204 (`FSYNC_INTERVAL=0`); the default is the background flush (1 s).
 */
async function serveOurs(dir: string, fsync: boolean, fsyncEach = false): Promise<ServeHandle> {
  const { parseConfig } = await import('@tus-edge/server');
  const { startServer } = await import('@tus-edge/server');
  const config = parseConfig({
    PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', SHUTDOWN_TIMEOUT_MS: '2000',
    DATA_DIR: dir, FSYNC: String(fsync), ...(fsyncEach ? { FSYNC_INTERVAL: '0' } : {}),
    // For experiments: the default's flush interval, changed without a rebuild.
    ...(fsync && !fsyncEach && process.env.BENCH_OURS_FSYNC_INTERVAL ? { FSYNC_INTERVAL: process.env.BENCH_OURS_FSYNC_INTERVAL } : {}),
  });
  const running = await startServer(config);
  return { url: `${running.url}${config.tusPath}`, stop: () => running.stop() };
}

/** Bytes of regular files left under `dir` (what the runs failed to delete). */
async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await fsp.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    try {
      total += (await fsp.stat(path.join(entry.parentPath ?? entry.path, entry.name))).size;
    } catch {
      /* removed meanwhile */
    }
  }
  return total;
}

/** Restarts the kernel's peak-RSS counter (VmHWM, and so `maxRSS`) from the current RSS. Linux only. */
function resetPeakRss(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

async function serve(kind: ServeKind): Promise<void> {
  if (!SERVE_KINDS.includes(kind)) throw new Error(`unknown serve kind "${kind}"`);
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), `tus-bench-${kind}-`));
  const handle =
    kind === 'sink' ? await serveSink(dir, 'file')
    : kind === 'sink-fsync' ? await serveSink(dir, 'fsync')
    : kind === 'discard' ? await serveSink(dir, 'discard')
    : kind === 'stock' ? await serveStock(dir)
    : await serveOurs(dir, kind !== 'ours-nofsync', kind === 'ours-fsync-each');
  const send = (msg: unknown) => process.send?.(msg);
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    const leftover = await bytesUnder(dir).catch(() => -1);
    await Promise.race([handle.stop(), new Promise((r) => setTimeout(r, 5000))]);
    await fsp.rm(dir, { recursive: true, force: true });
    send({ type: 'stopped', leftover });
    // Let the IPC message out; exiting normally also writes the --cpu-prof profile.
    setTimeout(() => process.exit(0), 50);
  };
  // Event-loop delay, for the many-uploads part (many.ts): restarted with the peak RSS.
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  process.on('message', (msg: { type: string; id?: number }) => {
    if (msg.type === 'health') {
      send({
        type: 'health', id: msg.id, loopP99Ms: loop.percentile(99) / 1e6, loopMaxMs: loop.max / 1e6,
        fds: fs.readdirSync('/proc/self/fd').length, rssMiB: process.memoryUsage.rss() / 2 ** 20,
      });
    } else if (msg.type === 'usage') {
      const { userCPUTime: user, systemCPUTime: system, minorPageFault: faults, maxRSS } = process.resourceUsage();
      send({ type: 'usage', id: msg.id, user, system, faults, maxRSS });
    } else if (msg.type === 'reset-peak') {
      loop.reset();
      send({ type: 'reset-peak', id: msg.id, ok: resetPeakRss() });
    }
    else if (msg.type === 'stop') void shutdown();
  });
  process.on('disconnect', () => void shutdown());
  send({ type: 'ready', url: handle.url, dir });
}

serve(process.argv[2] as ServeKind).catch((err) => {
  console.error(err);
  process.exit(1);
});
