import fs from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { Locker } from '@tus/server';
import {
  Circuits, connectRedis, createResultStore, createStatusStore, DirectoryOutbox, DirectoryQueueAdmin, JetStreamLink, JetStreamQueueAdmin, startTracing,
  type EventPublisher, type QueueAdmin, type ResultStore, type StatusStore, type Tracing, type UploadCompletedEvent,
} from '@tus-edge/processors';
import type { MetadataValue } from '@tus/s3-store';
import type { Config } from './config/config.js';
import { OutboxPublisher } from './events/outbox-publisher.js';
import { ProcessLocker } from './locking/process-locker.js';
import { RedisLocker } from './locking/redis-locker.js';
import { Lifecycle } from './ops/lifecycle.js';
import { createLogger, type Logger } from './ops/logger.js';
import { Metrics } from './ops/metrics.js';
import { JsonFileKvStore } from './records/json-file-kv.js';
import { RedisKvStore } from './records/redis-kv.js';
import { RedisRecordStore } from './records/redis-records.js';
import { ScanningRecordStore } from './records/scanning-records.js';
import type { FinalLinkStore, UploadRecord, UploadRecordStore } from './records/types.js';
import { FileStorage } from './storage/file-storage.js';
import { createS3Client } from '@tus-edge/processors';
import { S3Storage } from './storage/s3/s3-storage.js';
import type { CachedLayout } from './storage/s3/layout-cache.js';
import { Staging } from './storage/staging.js';
import { GuardedStorage } from './storage/guarded.js';
import { createReceiver, type Receiver } from './storage/receive.js';
import type { UploadStorage } from './storage/types.js';
import { buildSecurity } from './auth/build.js';
import { openCatalogueDb, SqlCatalogue, type Catalogue } from './catalogue/index.js';
import { SqlJobHistory } from './analytics/sql-history.js';
import type { JobHistory } from './analytics/types.js';
import { buildWebhooks } from './webhooks/build.js';
import type { Webhooks } from './webhooks/webhooks.js';
import { watchCatalogueUsage } from './catalogue/metrics.js';
import type { Security } from './auth/security.js';
import { buildTiers } from './tiers/choose.js';
import type { ObjectTiers } from './tiers/types.js';
import type { DownloadDeps } from './downloads/serve.js';
import { buildDownloads } from './downloads/build.js';
import { FileProcessRequestStore, RedisProcessRequestStore, type ProcessRequestStore } from './records/process-requests.js';

/**
 * The app context: every dependency of the HTTP surface and the uploads domain, built once at start-up
 * by {@link buildContext} (the one place that chooses implementations).
 */
export interface AppContext {
  config: Config;
  storage: UploadStorage;
  /** Scratch space for writes verified before they reach a storage without `truncate`. */
  staging: Staging;
  /** How request bodies reach `storage`: in place, or staged where the storage cannot undo a write. */
  receiver: Receiver;
  records: UploadRecordStore;
  links: FinalLinkStore;
  locker: Locker;
  events: EventPublisher;
  /** Processing status per upload (written by the processor runtime, read by the API). */
  status: StatusStore;
  /** What the processors produced for each upload; removed with the upload. */
  results: ResultStore;
  /** The operator's view of the job queue (depth, dead letters, retry): the directory queue or JetStream. */
  queueAdmin: QueueAdmin;
  metrics: Metrics;
  logger: Logger;
  /** The circuit breakers (S3; OpenAI for in-process processors) and bulkheads of this process. */
  circuits: Circuits;
  /** Traces of this process (off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set); flushed and stopped by `close`. */
  tracing: Tracing;
  lifecycle: Lifecycle;
  /** Authentication, upload tokens, signed URLs, rate limits, quotas and content checks. */
  security: Security;
  /** Finished objects by storage class (standard, cold): reads after a move, and the moves themselves. */
  tiers: ObjectTiers;
  /** How downloads of finished files are served (caching, redirects to the store). */
  downloads: DownloadDeps;
  /** The file catalogue: finished uploads as files (SQLite under DATA_DIR, or PostgreSQL with DATABASE_URL). */
  catalogue: Catalogue;
  /** Processing requests and their idempotency keys (files under DATA_DIR, or Redis). */
  processRequests: ProcessRequestStore;
  /** The job history and upload usage behind the analytics API, in the catalogue's database (analytics/). */
  history: JobHistory;
  /** Webhook endpoints and deliveries (issue 15), in the catalogue database; started by the server after the migration. */
  webhooks: Webhooks;
  /** Injectable clock for expiry tests. */
  now: () => Date;
  /** Readiness checks of the backing services (storage, Redis), by name; each rejects when unavailable. */
  checks: Record<string, () => Promise<void>>;
  /** Closes connections to backing services (after the HTTP server has closed). */
  close: () => Promise<void>;
}

/** Dependencies a test may replace. */
export type Overrides = Partial<Omit<AppContext, 'config'>>;

/**
 * Builds every dependency once from the config. This is the one place that chooses implementations:
 * the embedded default (file storage, in-process locker, file records, directory outbox), or S3
 * storage and Redis records and locks when `S3_BUCKET` / `REDIS_URL` are set.
 */
export function buildContext(config: Config, overrides: Overrides = {}): AppContext {
  const logger: Logger = overrides.logger ?? createLogger(config.logLevel, { node: config.nodeName });
  const metrics = overrides.metrics ?? new Metrics();
  const checks: AppContext['checks'] = {};
  const closers: Array<() => Promise<void> | void> = [];
  // Traces start before anything that makes spans; they are flushed last, after every other closer.
  const tracing = overrides.tracing ?? startTracing(config.processing.tracing, { serviceName: 'tus-edge-server', nodeName: config.nodeName });
  const circuits = overrides.circuits ?? new Circuits(config.processing.breakers);
  circuits.onStateChange((service, state) => logger[state === 'open' ? 'warn' : 'info']('circuit breaker state changed', { service, state }));
  // The S3 part uploads' bulkhead is @tus/s3-store's own limit (S3_PART_CONCURRENCY); its use is counted here.
  const s3Parts = { limit: config.storage.kind === 's3' ? config.storage.partConcurrency : 0, inUse: 0, waiting: -1 };
  if (!overrides.metrics) metrics.watch(circuits, (): Record<string, typeof s3Parts> => (config.storage.kind === 's3' ? { 's3-parts': s3Parts } : {}));

  let redis: Redis | undefined;
  const coordination = config.coordination;
  if (coordination.kind === 'redis') {
    const url = coordination.url;
    const connect = (name: string) => {
      // Every command bounded in time (REDIS_COMMAND_TIMEOUT) and behind the `redis` breaker: a Redis that
      // hangs is answered 503 + Retry-After at once (records, locks, rate limits, outbox alike).
      const client = connectRedis(url, config.processing.redisGuard, { connectionName: `${config.nodeName}-${name}`, breaker: circuits.breaker('redis') });
      client.on('error', (err) => logger.warn('redis connection error', { connection: name, err: err.message }));
      closers.push(() => client.disconnect());
      return client;
    };
    redis = connect('commands');
    const commands = redis;
    checks.redis = async () => void (await commands.ping());
    if (!overrides.locker) {
      const locker = new RedisLocker({
        redis, subscriber: connect('locks'), prefix: coordination.prefix,
        ttlMs: coordination.lockTtlMs, acquireTimeoutMs: config.lockAcquireTimeoutMs,
        onHandover: () => metrics.lockHandovers.inc(),
      });
      overrides = { ...overrides, locker };
    }
  }
  const prefix = coordination.kind === 'redis' ? coordination.prefix : '';
  const expiry = config.uploadExpiryMs;

  // One S3 client for the upload storage and the processors' result store.
  const s3Config = config.storage.kind === 's3' ? config.storage : undefined;
  const s3 = s3Config && {
    bucket: s3Config.bucket,
    client: createS3Client(s3Config, {}, { inFlight: (command, delta) => void (command === 'UploadPart' && (s3Parts.inUse += delta)) }),
  };
  let storage: UploadStorage | undefined = overrides.storage;
  if (!storage && s3Config && s3) {
    // @tus/s3-store stages parts in os.tmpdir(), which follows TMPDIR: keep them on the staging disk.
    process.env.TMPDIR = path.join(config.stagingDir, 'parts');
    fs.mkdirSync(process.env.TMPDIR, { recursive: true });
    storage = new S3Storage({
      client: s3.client,
      bucket: s3.bucket,
      partSize: s3Config.partSize,
      partConcurrency: s3Config.partConcurrency,
      maxUploadSize: config.maxSize,
      uniformParts: s3Config.uniformParts,
      onRetry: (what, err) => {
        metrics.s3Retries.inc({ what });
        logger.warn('S3 upload failed transiently; sending it again', { what, err: (err as Error).message });
      },
      cache: redis ? new RedisKvStore<MetadataValue>(redis, `${prefix}s3info:`, () => 2 * expiry) : undefined,
      layouts: redis ? new RedisKvStore<CachedLayout>(redis, `${prefix}s3layout:`, () => 2 * expiry) : undefined,
    });
    // Present from the start, so rate() sees the first retry.
    for (const what of ['part', 'tail'] as const) metrics.s3Retries.inc({ what }, 0);
  }
  // S3 is an outside service: behind a circuit breaker, so a store that hangs is answered 503 at once.
  if (storage && !overrides.storage) storage = new GuardedStorage(storage, circuits.breaker('s3'));
  if (!storage) {
    const files = new FileStorage({
      directory: path.join(config.dataDir, 'uploads'), stateDirectory: path.join(config.dataDir, 'durable'),
      fsync: config.fsync, flushIntervalMs: config.fsyncIntervalMs,
    });
    // A clean stop leaves every acknowledged byte flushed: a reboot after it cuts nothing back.
    closers.push(() => files.flush());
    storage = files;
  }
  const chosenStorage = storage;
  metrics.watchStagingDisk(config.stagingDir);
  checks.storage = () => chosenStorage.check();

  const records: UploadRecordStore =
    overrides.records ??
    (redis
      ? new RedisRecordStore(redis, prefix, expiry, config.catalogueRecordGraceMs)
      : new ScanningRecordStore(new JsonFileKvStore<UploadRecord>(path.join(config.dataDir, 'records')), expiry, config.catalogueRecordGraceMs));
  const links: FinalLinkStore =
    overrides.links ??
    (redis ? new RedisKvStore<string[]>(redis, `${prefix}link:`, () => 2 * expiry) : new JsonFileKvStore<string[]>(path.join(config.dataDir, 'links')));
  const locker: Locker = overrides.locker ?? new ProcessLocker(config.lockAcquireTimeoutMs);
  if (locker instanceof RedisLocker) closers.unshift(() => locker.close());
  let events: EventPublisher | undefined = overrides.events;
  const queue = config.processing.queue;
  let link: JetStreamLink | undefined;
  if (!events && queue.kind === 'jetstream') {
    // Events wait in a durable outbox (Redis, or DATA_DIR) until JetStream acknowledges them.
    link = new JetStreamLink(queue.servers, queue.streams, config.nodeName, logger);
    const outbox = new OutboxPublisher({
      target: link,
      outbox: redis
        ? new RedisKvStore<UploadCompletedEvent>(redis, `${prefix}outbox:`)
        : new JsonFileKvStore<UploadCompletedEvent>(path.join(config.dataDir, 'events', 'outbox')),
      logger,
    });
    const linked = link;
    void linked.ready().then(() => outbox.start());
    closers.unshift(() => outbox.stop(), () => linked.close());
    events = outbox;
  }
  events ??= new DirectoryOutbox(path.join(config.dataDir, 'events'));
  let queueAdmin = overrides.queueAdmin;
  if (!queueAdmin && queue.kind === 'jetstream') {
    // The streams are read through the outbox's link (a link of its own when the publisher was given).
    const nats = link ?? new JetStreamLink(queue.servers, queue.streams, `${config.nodeName}-admin`, logger);
    if (!link) closers.unshift(() => nats.close());
    queueAdmin = new JetStreamQueueAdmin(() => nats.nats());
  }
  if (!queueAdmin) {
    const kinds = config.processors.inProcess ? [...config.processors.runtime.kinds] : [];
    queueAdmin = new DirectoryQueueAdmin(queue.kind === 'directory' ? queue.dir : path.join(config.dataDir, 'events'), kinds);
  }
  const status: StatusStore = overrides.status ?? createStatusStore(config.processing, logger, circuits);
  // What processors produce lives beside the uploads: the bucket's results/<id>/, or DATA_DIR/results.
  const results: ResultStore =
    overrides.results ?? createResultStore(config.processing, s3);
  closers.push(() => status.close());
  const now = overrides.now ?? (() => new Date());
  const security = overrides.security ?? buildSecurity(config, redis && { redis, prefix }, logger, now);
  const staging = overrides.staging ?? new Staging(config.stagingDir, config.stagingMinFreeBytes);
  const built = buildTiers(config, storage, s3);
  const tiers = overrides.tiers ?? built.tiers;
  const downloads = overrides.downloads ?? buildDownloads(config, tiers, built.presigner, now);
  // One database (one SQLite connection, or one pool) for the catalogue, the job history and the webhooks:
  // SQLite allows one writer per process.
  const needsDb = !overrides.catalogue || !overrides.history || !overrides.webhooks;
  const catalogueDb = needsDb ? openCatalogueDb(config.catalogue) : undefined;
  const catalogue = overrides.catalogue ?? new SqlCatalogue(catalogueDb!);
  if (!overrides.catalogue) closers.push(() => catalogue.close());
  else if (catalogueDb) closers.push(() => catalogueDb.close());
  const history = overrides.history ?? new SqlJobHistory(catalogueDb!, false);
  const webhooks = overrides.webhooks ?? buildWebhooks(config, catalogueDb!, { catalogue, records }, metrics.registry, logger, now);
  checks.catalogue = () => catalogue.check();
  if (!overrides.metrics) watchCatalogueUsage(metrics.registry, catalogue);
  return {
    config,
    storage,
    staging,
    // What the storage can do is asked once, here: requests never ask it again.
    receiver: overrides.receiver ?? createReceiver(storage, staging),
    records,
    links,
    locker,
    events,
    status,
    results,
    queueAdmin,
    logger,
    metrics,
    circuits,
    tracing,
    lifecycle: overrides.lifecycle ?? new Lifecycle(),
    now,
    security,
    tiers,
    downloads,
    catalogue,
    processRequests: overrides.processRequests
      ?? (redis ? new RedisProcessRequestStore(redis, prefix) : new FileProcessRequestStore(path.join(config.dataDir, 'process-requests'))),
    history,
    webhooks,
    checks: overrides.checks ?? checks,
    close: overrides.close ?? (async () => {
      await Promise.all(closers.map((c) => c()));
      await tracing.shutdown();
    }),
  };
}
