/**
 * Server side of `bench:distributed`: what a child process forked as `main.js serve <kind>` runs. It
 * starts one server on 127.0.0.1 (port 0) and talks to the parent over IPC:
 *
 *   → { type: 'ready', url }               the tus endpoint, e.g. http://127.0.0.1:PORT/files
 *   ← { type: 'usage', id }  → { type: 'usage', id, cpuMs }   user+system CPU of this process so far
 *   ← { type: 'trace', id }  → { type: 'trace', id, stats }   S3 calls so far (`serve <kind> trace` only)
 *   ← { type: 'stop' }       → { type: 'stopped' }, then exits 0 (which also writes a --cpu-prof profile)
 *
 * A disconnected parent counts as 'stop'. The parent owns the temp dirs (DATA_DIR, S3_STAGING_DIR,
 * TMPDIR) and removes them. Settings come from the environment the parent gives the child, read by
 * the server's own `loadConfig()` (config/env.ts), also for the stock servers' S3 connection.
 */
import http from 'node:http';
import path from 'node:path';
import { loadConfig } from '@tus-edge/server';
import { type S3CallStats, traceS3 } from './s3-trace.js';
import { listenLoopback } from '../http.js';

/** What a child can serve. */
export type DistServeKind = 'ours-s3' | 'stock-s3' | 'ours-file' | 'stock-file';
export const DIST_SERVE_KINDS: readonly DistServeKind[] = ['ours-s3', 'stock-s3', 'ours-file', 'stock-file'];

interface Served {
  url: string;
  stop(): Promise<void>;
}

/**
 * This server, started with its own start function and the environment the parent set. With `trace`
 * (diagnostics only), its S3 storage is built as context.ts builds it but on a client that times
 * every S3 call, and passed in as an override.
 */
async function serveOurs(trace: S3CallStats | undefined): Promise<Served> {
  const { startServer } = await import('@tus-edge/server');
  const config = loadConfig();
  const { storage: s3, coordination: redisConfig } = config;
  if (!trace || s3.kind !== 's3' || redisConfig.kind !== 'redis') {
    const running = await startServer(config);
    return { url: `${running.url}${config.tusPath}`, stop: () => running.stop() };
  }
  const { Redis } = await import('ioredis');
  const { createS3Client } = await import('@tus-edge/processors');
  const { S3Storage } = await import('@tus-edge/server');
  const { RedisKvStore } = await import('@tus-edge/server');
  const client = createS3Client(s3);
  traceS3(client, trace);
  const redis = new Redis(redisConfig.url, { maxRetriesPerRequest: 2 });
  const storage = new S3Storage({
    client, bucket: s3.bucket, partSize: s3.partSize, partConcurrency: s3.partConcurrency,
    maxUploadSize: config.maxSize,
    cache: new RedisKvStore(redis, `${redisConfig.prefix}s3info:`, () => 2 * config.uploadExpiryMs),
  });
  const running = await startServer(config, { storage });
  return {
    url: `${running.url}${config.tusPath}`,
    stop: async () => {
      await running.stop();
      redis.disconnect();
    },
  };
}

/**
 * Stock `@tus/server` on plain node:http (`server.handle`), default MemoryLocker and, for S3, default
 * MemoryKvStore cache and part size (8 MiB). Configured for Swift as FIELD-NOTES says: no tags,
 * path-style, checksums only when required. It builds its own S3 client, which lacks the
 * DeleteObjects Content-MD5 middleware: the benchmark never sends it a DELETE.
 */
async function serveStock(kind: 'stock-s3' | 'stock-file', trace: S3CallStats | undefined): Promise<Served> {
  const { Server } = await import('@tus/server');
  let datastore;
  if (kind === 'stock-s3') {
    const { S3Store } = await import('@tus/s3-store');
    const s3 = loadConfig().storage;
    if (s3.kind !== 's3') throw new Error('stock-s3: S3_BUCKET is not set');
    /** Stock, except that (with `trace`) its own client times every S3 call. */
    class Traced extends S3Store {
      constructor(options: ConstructorParameters<typeof S3Store>[0]) {
        super(options);
        if (trace) traceS3(this.client, trace);
      }
    }
    datastore = new Traced({
      useTags: false,
      s3ClientConfig: {
        bucket: s3.bucket,
        endpoint: s3.endpoint,
        region: s3.region,
        forcePathStyle: true,
        credentials: s3.credentials,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      },
    });
  } else {
    const { FileStore } = await import('@tus/file-store');
    datastore = new FileStore({ directory: path.join(loadConfig().dataDir, 'stock-files') });
  }
  const tus = new Server({ path: '/files', datastore });
  const server = http.createServer((req, res) => void tus.handle(req, res));
  const url = await listenLoopback(server);
  return {
    url: `${url}/files`,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Runs the child: starts `kind`, reports ready, serves until told to stop. `mode` 'trace' times S3 calls. */
export async function serveChild(kind: string, mode?: string): Promise<void> {
  if (!(DIST_SERVE_KINDS as readonly string[]).includes(kind)) throw new Error(`unknown serve kind "${kind}" (${DIST_SERVE_KINDS.join(', ')})`);
  const k = kind as DistServeKind;
  const trace: S3CallStats | undefined = mode === 'trace' ? {} : undefined;
  const served = k === 'ours-s3' || k === 'ours-file' ? await serveOurs(trace) : await serveStock(k, trace);
  const send = (msg: unknown) => process.send?.(msg);
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await Promise.race([served.stop(), new Promise((r) => setTimeout(r, 5000))]);
    send({ type: 'stopped' });
    // Let the IPC message out; a normal exit also writes the --cpu-prof profile.
    setTimeout(() => process.exit(0), 50);
  };
  process.on('message', (msg: { type: string; id?: number }) => {
    if (msg.type === 'usage') {
      const u = process.cpuUsage();
      send({ type: 'usage', id: msg.id, cpuMs: (u.user + u.system) / 1000 });
    } else if (msg.type === 'trace') send({ type: 'trace', id: msg.id, stats: trace ?? {} }); else if (msg.type === 'stop') void shutdown();
  });
  process.on('disconnect', () => void shutdown());
  send({ type: 'ready', url: served.url });
}
