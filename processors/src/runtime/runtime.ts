import fs from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Registry } from 'prom-client';
import type { ProcessorsConfig } from '../config/config.js';
import { ProcessingError } from '../errors.js';
import type { UploadCompletedEvent, UploadLocation } from '../pipeline/event.js';
import { backoffDelay, chooseLane } from '../jobs/policy.js';
import type { JobSource, Lane } from '../pipeline/job-source.js';
import { sleep } from '../common/waiters.js';
import { createLogger, type Logger } from '../logger.js';
import { connectNats } from '../pipeline/jetstream/connect.js';
import { JetStreamOutcomePublisher } from '../outcomes.js';
import { ensureStreams } from '../pipeline/jetstream/streams.js';
import type { OutcomePublisher } from '../outcomes.js';
import { defaultProcessors } from '../processors/defaults.js';
import type { OpenStream, Processor } from '../processors/types.js';
import { createResultStores } from '../results/choose.js';
import type { ResultStore } from '../results/types.js';
import { createUploadAccess, type UploadAccess } from '../storage/access.js';
import { createS3Client } from '../common/s3-client.js';
import { Bulkhead } from '../common/bulkhead.js';
import { Circuits } from '../common/circuits.js';
import { connectRedis } from '../common/redis-guard.js';
import { Postponements } from './postpone.js';
import { contextFrom, inSpan } from '../tracing/spans.js';
import { DirectorySource } from '../pipeline/directory/source.js';
import { JetStreamSource } from '../pipeline/jetstream/source.js';
import { LocalJobLeases } from '../leases/local.js';
import { RedisJobLeases } from '../leases/redis.js';
import type { JobLeases } from '../leases/types.js';
import { FileStatusStore } from '../status/file.js';
import { RedisStatusStore } from '../status/redis.js';
import type { StatusStore } from '../status/types.js';
import { executeJob } from './execute.js';
import { startOpsServer, type OpsServer } from './http.js';
import { RuntimeMetrics } from './metrics.js';
import type { AttemptRecorder } from '../pipeline/attempts.js';
import { JetStreamAttemptPublisher } from '../pipeline/jetstream/attempts.js';
import { attemptsDir, DirectoryAttemptRecorder } from '../pipeline/directory/attempts.js';

export interface RuntimeOptions {
  config: ProcessorsConfig;
  /** Default: JSON lines on stdout at `config.logLevel`. The server can pass its own logger. */
  logger?: Logger;
  /** Reads `s3` locations (the server builds it from its S3 client). `file` locations are read directly. */
  openStream?: OpenStream;
  /**
   * Processors to run (default: those of `config.kinds` — fingerprint, video, documents, generate —
   * built by {@link defaultProcessors}). Kinds: `[a-z0-9-]+`, unique.
   */
  processors?: Processor[];
  /** Processors run besides `processors` (or the defaults): the server adds its `maintenance` kind here. */
  moreProcessors?: Processor[];
  /** Where results go, per upload location (default: files under `DATA_DIR/results`, or the upload's S3 bucket). */
  results?: (location: UploadLocation) => ResultStore;
  /** How media processors reach uploads (default: paths, and presigned URLs / ranged GETs from `config.s3`). */
  access?: UploadAccess;
  /** Serve `/healthz`, `/readyz`, `/metrics` on `config.host:config.port` (default true). */
  http?: boolean;
  /** Register metrics here (the server's registry in embedded mode); default a new registry with Node metrics. */
  registry?: Registry;
  /** How a job's lane is chosen (default {@link chooseLane} with `config.highPriorityMaxBytes`). */
  chooseLane?: (event: UploadCompletedEvent) => Lane;
  /** Overrides, mostly for tests: used instead of what `config` would build (and not closed by `stop`). */
  source?: JobSource;
  /**
   * Wraps the source the runtime uses (the given one, or the one it builds from `config.queue`: JetStream
   * or the directory queue), e.g. to add jobs of a schedule beside the upload events.
   */
  wrapSource?: (source: JobSource) => JobSource;
  status?: StatusStore;
  leases?: JobLeases;
  outcomes?: OutcomePublisher | null;
  /**
   * Where each settled job attempt goes (the job history). Default: on JetStream, published on
   * `analytics.attempts` for the servers to write; on the directory outbox, files under
   * `DATA_DIR/analytics/attempts` the server takes in (the embedded server passes its history writer
   * instead); with a given `source`, nowhere. `null`: not recorded.
   */
  attempts?: AttemptRecorder | null;
  nats?: NatsConnection;
  /** The process's breakers and bulkheads (the server passes its own in embedded mode); default new ones from `config.breakers`. */
  circuits?: Circuits;
}

/** A running processor runtime. */
export interface Runtime {
  /** `distributed` on JetStream, `embedded` on the directory outbox. */
  readonly mode: 'distributed' | 'embedded';
  /** The status store (read it with `get`, follow it with `subscribe`). */
  readonly status: StatusStore;
  readonly registry: Registry;
  /** Base URL of the ops endpoint, or null when `http: false`. */
  readonly url: string | null;
  /** True while the source can deliver and the runtime is not draining. */
  ready(): boolean;
  /**
   * Graceful drain: stop taking jobs, let running jobs finish for `config.shutdownTimeoutMs`, then
   * abort the rest (they are retried elsewhere), close what the runtime opened. Idempotent.
   */
  stop(): Promise<void>;
}

const KIND = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The breaker of the service behind an outside error code (an open one makes postponing unbounded). */
const BREAKER_OF: Partial<Record<string, string>> = { OPENAI_UNAVAILABLE: 'openai', REDIS_UNAVAILABLE: 'redis', STORAGE_UNAVAILABLE: 's3', RESULTS_UNAVAILABLE: 's3' };

/**
 * Builds the status store chosen by the configuration: Redis when `REDIS_URL` is set (commands bounded
 * by `REDIS_COMMAND_TIMEOUT`, and behind the process's `redis` breaker when `circuits` is given), else files.
 */
export function createStatusStore(config: Pick<ProcessorsConfig, 'status' | 'redisGuard'>, logger?: Logger, circuits?: Circuits): StatusStore {
  if (config.status.kind !== 'redis') return new FileStatusStore(config.status.dir, { ttlMs: config.status.ttlMs });
  const client = connectRedis(config.status.url, config.redisGuard, { connectionName: 'status', breaker: circuits?.breaker('redis') });
  return new RedisStatusStore(client, { prefix: config.status.prefix, ttlMs: config.status.ttlMs, logger });
}

/** Job leases beside the status: in Redis when the status is (workers share them), else in this process. */
export function createJobLeases(config: ProcessorsConfig, logger?: Logger, circuits?: Circuits): JobLeases {
  if (config.status.kind !== 'redis') return new LocalJobLeases();
  const client = connectRedis(config.status.url, config.redisGuard, { connectionName: 'leases', breaker: circuits?.breaker('redis') });
  return new RedisJobLeases(client, { prefix: config.status.prefix, logger });
}

/**
 * Starts the processor runtime: `npm run processors` (distributed, JetStream when `NATS_URL` is set)
 * and the server's embedded mode (directory outbox under `DATA_DIR/events`) run this same function.
 * Implementations are chosen here, once.
 */
export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.logLevel, { component: 'processors', node: config.nodeName });
  // S3 for results and media access, from the S3_* variables; the client is built on first use.
  let s3: ReturnType<typeof createS3Client> | undefined;
  const s3Client = () => (s3 ??= createS3Client(config.s3));
  const resultsFor = options.results ?? createResultStores(config, s3Client);
  const access = options.access ?? lazyAccess(() => createUploadAccess(s3Client(), Math.ceil(Math.max(config.jobTimeoutMs, 3_600_000) / 1000)));
  const circuits = options.circuits ?? new Circuits(config.breakers);
  if (!options.circuits) circuits.onStateChange((service, state) => logger[state === 'open' ? 'warn' : 'info']('circuit breaker state changed', { service, state }));
  const processors = [...(options.processors ?? defaultProcessors(config, { access, circuits })), ...(options.moreProcessors ?? [])];
  const byKind = new Map<string, Processor>();
  for (const p of processors) {
    if (!KIND.test(p.kind) || p.kind === 'dispatch') throw new Error(`processor kind "${p.kind}" must match ${KIND} and not be "dispatch"`);
    if (byKind.has(p.kind)) throw new Error(`two processors of kind "${p.kind}"`);
    byKind.set(p.kind, p);
  }
  const owned: Array<() => Promise<unknown>> = [];
  const closeOwned = async () => {
    for (const close of owned.reverse()) await close().catch((err) => logger.warn('close failed', { err: (err as Error).message }));
  };

  try {
    let source = options.source;
    let outcomes = options.outcomes === undefined ? null : options.outcomes;
    let attempts = options.attempts ?? null;
    if (!source && config.queue.kind === 'jetstream') {
      let nc = options.nats;
      if (!nc) {
        const created = await connectNats(config.queue.servers, { name: `processors-${config.nodeName}`, logger });
        owned.push(() => created.drain());
        nc = created;
      }
      await ensureStreams(await jetstreamManager(nc), config.queue.streams, logger);
      // Postponed deliveries (an outside service failing) are deliveries but not attempts, and an open
      // breaker's are not bounded: JetStream then leaves the count to the runtime (see executeJob).
      source = new JetStreamSource(nc, { ackWaitMs: config.ackWaitMs, maxDeliver: config.maxPostpones > 0 ? Infinity : config.maxDeliver, logger });
      if (options.outcomes === undefined) outcomes = new JetStreamOutcomePublisher(jetstream(nc));
      if (options.attempts === undefined) attempts = new JetStreamAttemptPublisher(jetstream(nc));
    }
    if (!source && options.attempts === undefined) attempts = new DirectoryAttemptRecorder(attemptsDir(config.dataDir));
    source ??= new DirectorySource({ dir: config.queue.kind === 'directory' ? config.queue.dir : `${config.dataDir}/events`, logger, ackWaitMs: config.ackWaitMs });
    if (options.wrapSource) source = options.wrapSource(source);
    let status = options.status;
    if (!status) {
      const created = createStatusStore(config, logger, circuits);
      owned.push(() => created.close());
      status = created;
    }
    let leases = options.leases;
    if (!leases) {
      const created = createJobLeases(config, logger, circuits);
      owned.push(() => created.close());
      leases = created;
    }
    const metrics = new RuntimeMetrics(options.registry, !options.registry);
    metrics.watch(circuits);
    const laneOf = options.chooseLane ?? ((e: UploadCompletedEvent) => chooseLane(e, config.highPriorityMaxBytes, config.priorityFromMetadata));
    const backoff = (attempt: number) => backoffDelay(attempt, config.backoff);
    const statusStore = status;

    const dispatching = source;
    /**
     * Dispatch: first plan every kind that will dispatch this event (on JetStream other workers' kinds
     * too), so a fast job finishing before another kind's dispatcher ran cannot make the aggregate look
     * final; then record `queued` (with the lane) or `skipped` for this kind.
     */
    const route = (event: UploadCompletedEvent, kind: string): Promise<Lane | null> =>
      // The dispatch step continues the trace of the request that finished the upload.
      inSpan(`dispatch ${kind}`, { attributes: { 'upload.id': event.uploadId, 'job.kind': kind } }, () => dispatch(event, kind), contextFrom(event.traceparent));
    const dispatch = async (event: UploadCompletedEvent, kind: string): Promise<Lane | null> => {
      const now = new Date().toISOString();
      const base = { uploadId: event.uploadId, eventId: event.eventId, kind };
      if (event.request) {
        // A processing request: only its kinds, on its lane; the server claimed them in the status before publishing.
        if (!event.request.kinds.includes(kind)) return null;
        await statusStore.update({ ...base, request: true, patch: { state: 'queued', lane: event.request.lane } });
        return event.request.lane;
      }
      const others = (await dispatching.dispatchingKinds()).filter((k) => k !== kind); // this kind is recorded next
      if (others.length > 0) await statusStore.plan(event.uploadId, event.eventId, others);
      if (!byKind.get(kind)!.accepts(event)) {
        await statusStore.update({ ...base, patch: { state: 'skipped', reason: 'not applicable to this upload', finishedAt: now } });
        return null;
      }
      const lane = laneOf(event);
      await statusStore.update({ ...base, patch: { state: 'queued', lane, queuedAt: now } });
      return lane;
    };
    await source.start({ kinds: [...byKind.keys()], route, backoff });
    const jobSource = source;
    owned.push(() => jobSource.stop());

    const shutdown = new AbortController();
    const stopTaking = new AbortController();
    const deps = {
      processors: byKind,
      status,
      outcomes,
      metrics,
      logger,
      openStream: openStreamWith(options.openStream),
      maxDeliver: config.maxDeliver,
      ackWaitMs: config.ackWaitMs,
      jobTimeoutMs: config.jobTimeoutMs,
      backoff,
      shutdown: shutdown.signal,
      resultsFor,
      leases,
      attempts,
      nodeName: config.nodeName,
      postponements: new Postponements(config.maxPostpones, backoff, (err) => {
        if (err.code === 'CIRCUIT_OPEN') return true;
        const state = circuits.states()[BREAKER_OF[err.code] ?? ''];
        return state !== undefined && state !== 'closed';
      }),
    };
    // Each kind is a bulkhead of its own (its workers): a stuck kind cannot take another kind's slots.
    const usesRedis = config.status.kind === 'redis';
    if (usesRedis) circuits.breaker('redis'); // reported (closed) from the start
    const workersOf = (p: Processor) => Math.max(1, Math.min(config.concurrency, p.concurrency ?? config.concurrency));
    const bulkheads = new Map([...byKind.values()].map((p) => [p.kind, circuits.addBulkhead(new Bulkhead(`kind:${p.kind}`, workersOf(p)))]));
    const worker = async (kind: string) => {
      // Redis holds the status and the leases every job writes: its breaker is waited for too.
      const services = [...(byKind.get(kind)!.services ?? []), ...(usesRedis ? ['redis'] : [])];
      for (;;) {
        let job;
        try {
          // While a service this kind needs is failing, take no job of it: waiting jobs spend no delivery.
          await circuits.whenAllowed(services, stopTaking.signal).catch(() => undefined);
          job = await jobSource.next(kind);
        } catch (err) {
          logger.warn('taking a job failed', { kind, err: (err as Error).message });
          await sleep(500);
          continue;
        }
        if (!job) return;
        const taken = job;
        metrics.inFlight.inc({ kind });
        try {
          await bulkheads.get(kind)!.run(() => executeJob(taken, deps));
        } finally {
          metrics.inFlight.dec({ kind });
        }
      }
    };
    const workers = [...byKind.values()].flatMap((p) => {
      const slots = workersOf(p);
      metrics.workers.set({ kind: p.kind }, slots);
      // Present from the start, so rate() and increase() see the first tokens.
      for (const type of ['prompt', 'completion']) metrics.tokens.inc({ kind: p.kind, type }, 0);
      metrics.deadLettered.inc({ kind: p.kind }, 0);
      return Array.from({ length: slots }, () => worker(p.kind));
    });

    const refreshPending = async () => {
      try {
        for (const p of await jobSource.pending()) {
          metrics.pending.set({ kind: p.kind, lane: p.lane }, p.count);
          if (p.unacked !== undefined) metrics.unacked.set({ kind: p.kind, lane: p.lane }, p.unacked);
        }
      } catch {
        /* source unreachable: keep the last values */
      }
    };
    const pendingTimer = setInterval(() => void refreshPending(), 5000);
    void refreshPending();

    let draining = false;
    const ready = () => !draining && jobSource.ready();
    metrics.watchReadiness(ready);
    let ops: OpsServer | null = null;
    const details = () => ({ circuits: circuits.states(), bulkheads: circuits.bulkheadUse() });
    if (options.http !== false) ops = await startOpsServer(config.host, config.port, metrics.registry, ready, details);
    logger.info('processor runtime started', { source: jobSource.name, kinds: [...byKind.keys()], concurrency: config.concurrency, ops: ops?.url });

    let stopping: Promise<void> | null = null;
    return {
      mode: jobSource.name === 'jetstream' ? 'distributed' : 'embedded',
      status,
      registry: metrics.registry,
      url: ops?.url ?? null,
      ready,
      stop: () =>
        (stopping ??= (async () => {
          draining = true;
          stopTaking.abort();
          clearInterval(pendingTimer);
          await jobSource.stop();
          const finished = Promise.allSettled(workers);
          const inTime = await Promise.race([finished.then(() => true), sleep(config.shutdownTimeoutMs).then(() => false)]);
          if (!inTime) {
            logger.warn('drain grace period over; aborting running jobs');
            shutdown.abort();
            await Promise.race([finished, sleep(5000)]);
          }
          await ops?.close();
          await closeOwned();
          logger.info('processor runtime stopped');
        })()),
    };
  } catch (err) {
    await closeOwned();
    throw err;
  }
}

/** Defers building the S3-backed access until an upload needs it (file-only set-ups never build a client). */
function lazyAccess(build: () => UploadAccess): UploadAccess {
  const files = createUploadAccess(undefined);
  let s3: UploadAccess | undefined;
  const pick = (location: UploadLocation) => (location.kind === 'file' ? files : (s3 ??= build()));
  return {
    mediaUrl: (location) => pick(location).mediaUrl(location),
    openRandomAccess: (location, signal) => pick(location).openRandomAccess(location, signal),
  };
}

/** File locations are read from disk; S3 ones through the injected reader. */
function openStreamWith(openS3?: OpenStream): (location: UploadLocation, signal: AbortSignal) => Promise<Readable> {
  return async (location, signal) => {
    if (location.kind === 'file') {
      const fh = await fs.open(location.path, 'r');
      return fh.createReadStream({ signal } as Parameters<typeof fh.createReadStream>[0]);
    }
    if (!openS3) throw new ProcessingError('UNSUPPORTED_LOCATION', `s3://${location.bucket}/${location.key}: no openStream was given to startRuntime`);
    return openS3(location, signal);
  };
}
