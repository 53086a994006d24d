import type { AddressInfo } from 'node:net';
import { STATUS_CODES } from 'node:http';
import { getRequestListener, RequestError } from '@hono/node-server';
import { tusError } from './errors.js';
import { errorResponse } from './http/respond.js';
import { createHttpServer } from './http/servers.js';
import { startRuntime } from '@tus-edge/processors';
import { createApp } from './app.js';
import type { Config } from './config/config.js';
import { buildContext, type Overrides } from './context.js';
import type { AppContext } from './context.js';
import type { Uploads } from './uploads/uploads.js';
import { startAnalytics } from './analytics/start.js';
import { planMaintenance, startDistributedMaintenance, withMaintenance } from './maintenance/start.js';

/** Processing statuses without their own expiry (files) are pruned this often (see `StatusStore.prune`). */
const STATUS_PRUNE_INTERVAL_MS = 3_600_000;

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:1080 */
  url: string;
  port: number;
  deps: AppContext;
  /** Upload lifecycle operations (expiry sweep, assembly), for operators and tests. */
  uploads: Uploads;
  /** Graceful stop: readiness off, in-flight uploads get `shutdownTimeoutMs`, then the server closes. */
  stop(): Promise<void>;
}

// Node writes "460 unknown" otherwise: the adapter passes only the status code to writeHead.
STATUS_CODES[460] ??= 'Checksum Mismatch';

/** Whether `host` only accepts connections from this machine. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::ffff:127.0.0.1';
}

/** Starts the server on `config.host:config.port`, runs start-up recovery and the expiry sweep. */
export async function startServer(config: Config, overrides: Overrides = {}): Promise<RunningServer> {
  const deps = buildContext(config, overrides);
  const { hono, uploads } = createApp(deps);
  const listener = getRequestListener(hono.fetch, {
    // Bodies are consumed by the handlers themselves; an unread rest is never drained.
    autoCleanupIncoming: false,
    // Requests the adapter refuses before the app runs (a raw backslash in the path, a bad Host)
    // still get a catalogue error with a JSON body.
    errorHandler: (err: unknown) =>
      errorResponse(
        err instanceof RequestError ? tusError('MALFORMED_REQUEST', err.message) : err,
        deps.metrics,
        deps.logger,
        { Connection: 'close' },
      ),
  });
  // HTTP/1.1, or HTTP/2 over TLS or cleartext (HTTP2, config/protocols.ts), with the timeouts of each.
  const { server, scheme, close } = createHttpServer(config, listener);

  for (const check of Object.values(deps.checks)) await check();
  // Nodes starting at once wait for each other here (the migration runs under a lock).
  await deps.catalogue.migrate();
  await deps.history.migrate();
  // Webhook deliveries left pending by a stop are taken up again (their tables exist once migrated).
  await deps.webhooks.start();
  const republished = await uploads.republishMissingEvents();
  // Finished uploads recorded before the catalogue existed, once; then those a stopped node left behind.
  const imported = await uploads.handover.importOnce();
  const catalogued = await uploads.handover.sweep();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  let lastPrune = 0;
  const content = uploads.content;
  const sweep = setInterval(() => {
    uploads.sweepExpired().catch((err) => deps.logger.error('expiry sweep failed', { err }));
    uploads
      .republishMissingEvents()
      .catch((err) => deps.logger.error('event republish failed', { err }))
      .then(() => uploads.handover.sweep())
      .catch((err) => deps.logger.error('catalogue hand-over sweep failed', { err }));
    // Fingerprints (sha256, sniffed type) and processing summaries into the catalogue, for what no subscription carried.
    content.sweep(new Date(Date.now() - 5_000)).catch((err) => deps.logger.error('catalogue content sweep failed', { err }));
    if (Date.now() - lastPrune >= STATUS_PRUNE_INTERVAL_MS) {
      lastPrune = Date.now();
      deps.status.prune().catch((err) => deps.logger.error('status prune failed', { err }));
      deps.processRequests.prune?.().catch((err) => deps.logger.error('processing request prune failed', { err }));
    }
  }, config.expirySweepIntervalMs);
  sweep.unref();

  // Embedded mode: the processor runtime runs here, on the same outbox, status store and metrics.
  // The maintenance kind (FILE_POLICIES): in the in-process runtime, or in a runtime of its own.
  // The job history: the in-process runtime records into it; on JetStream, workers' attempts are consumed into it.
  const analytics = startAnalytics(deps);
  const maintenance = planMaintenance(deps, {
    removeFile: (scope, fileId) => uploads.handover.removeFile(scope, fileId),
    drainDeletes: () => uploads.handover.deletes.drain(),
  });
  const runtime = config.processors.inProcess
    ? await startRuntime({
        moreProcessors: maintenance && [maintenance.processor],
        wrapSource: maintenance && withMaintenance(maintenance),
        config: config.processors.runtime,
        logger: deps.logger.child({ component: 'processors' }),
        status: deps.status,
        registry: deps.metrics.registry,
        http: false,
        attempts: analytics.recorder,
        // One set of breakers and bulkheads per process: /readyz and the metrics show OpenAI's too.
        circuits: deps.circuits,
        // Each job's end becomes a webhook event: reported here on the embedded queue; on JetStream the
        // outcomes go to the MEDIA stream, which every node's webhooks follow (workers elsewhere too).
        ...(config.processing.queue.kind !== 'jetstream' && { outcomes: deps.webhooks.outcomes() }),
        // s3 locations: the key is the upload id in this server's bucket.
        openStream: (location) => deps.storage.read(location.kind === 's3' ? location.key : ''),
      })
    : maintenance && (await startDistributedMaintenance(deps, maintenance));

  const port = (server.address() as AddressInfo).port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  deps.lifecycle.markReady();
  if (config.security.auth.mode === 'none' && !isLoopback(config.host)) {
    deps.logger.warn('authentication is off (AUTH_MODE=none) on a non-loopback address: anyone who reaches this port can upload, read and delete uploads; set AUTH_MODE=jwt', { host: config.host });
  }
  if (config.catalogue.kind === 'sqlite' && config.coordination.kind === 'redis') {
    // Redis makes nodes share uploads; a catalogue in DATA_DIR is this node's alone.
    deps.logger.warn('REDIS_URL is set but DATABASE_URL is not: this node keeps its own file catalogue (SQLite in DATA_DIR), so /api/files, usage and versions see only the uploads finished here, nothing is deduplicated, finished records stay in Redis and lifecycle policies are refused; set DATABASE_URL to share one PostgreSQL catalogue between nodes', { file: config.catalogue.file });
  }
  deps.logger.info('server ready', { port, tusPath: config.tusPath, dataDir: config.dataDir, republished, imported, catalogued });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      clearInterval(sweep);
      const drained = await deps.lifecycle.drain(config.shutdownTimeoutMs);
      deps.logger.info('drained', drained);
      await runtime?.stop();
      await analytics.stop();
      await content.close();
      await close(1000);
      await deps.webhooks.stop();
      await deps.close();
    })());
  return { url: `${scheme}://${host}:${port}`, port, deps, uploads, stop };
}
