import fsp from 'node:fs/promises';
import path from 'node:path';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CIRCUIT_STATE_VALUE, type Circuits } from '@tus-edge/processors';

/** A bulkhead's use: calls allowed at once, running, waiting. */
export interface BulkheadUse {
  limit: number;
  inUse: number;
  waiting: number;
}

/** Every metric the server exports, on a registry of its own (no global state). */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route group and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly bytesReceived = new Counter({
    name: 'tus_bytes_received_total',
    help: 'Upload bytes received and stored',
    registers: [this.registry],
  });
  readonly uploadsCreated = new Counter({
    name: 'tus_uploads_created_total',
    help: 'Uploads created',
    labelNames: ['concat'] as const,
    registers: [this.registry],
  });
  readonly uploadsFinished = new Counter({
    name: 'tus_uploads_finished_total',
    help: 'Uploads whose last byte arrived (including assembled final uploads)',
    registers: [this.registry],
  });
  readonly contentHashes = new Counter({
    name: 'tus_content_hashes_total',
    help: 'Finished uploads by how their sha256 became known: followed while receiving, read back at finish, or later (fingerprint processor)',
    labelNames: ['how'] as const,
    registers: [this.registry],
  });
  readonly deduplicated = new Counter({
    name: 'tus_deduplicated_uploads_total',
    help: 'Finished uploads whose bytes the tenant already stored (their own bytes deleted), by when it was known: at the hand-over (sha256 known at finish) or from the fingerprint',
    labelNames: ['when'] as const,
    registers: [this.registry],
  });
  readonly deduplicatedBytes = new Counter({
    name: 'tus_deduplicated_bytes_total',
    help: 'Bytes not stored twice thanks to deduplication',
    registers: [this.registry],
  });
  readonly uploadsTerminated = new Counter({
    name: 'tus_uploads_terminated_total',
    help: 'Uploads deleted by the client (termination)',
    registers: [this.registry],
  });
  readonly uploadsExpired = new Counter({
    name: 'tus_uploads_expired_total',
    help: 'Unfinished uploads removed by the expiry sweep',
    registers: [this.registry],
  });
  readonly uploadsInProgress = new Gauge({
    name: 'tus_uploads_in_progress',
    help: 'Requests currently receiving upload bytes',
    registers: [this.registry],
  });
  readonly patchDuration = new Histogram({
    name: 'tus_patch_duration_seconds',
    help: 'Duration of PATCH requests that reached the storage',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  readonly s3Retries = new Counter({
    name: 'tus_s3_retries_total',
    help: 'Part and tail uploads to S3 sent again after a transient failure (503 SlowDown, 5xx, reset)',
    labelNames: ['what'] as const,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'tus_errors_total',
    help: 'Error responses by catalogue code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  readonly uploadDuration = new Histogram({
    name: 'tus_upload_duration_seconds',
    help: 'From creation to the last byte of finished uploads, by size class (see sizeClass)',
    labelNames: ['size_class'] as const,
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600],
    registers: [this.registry],
  });
  readonly bytesInFlight = new Gauge({
    name: 'tus_bytes_in_flight',
    help: 'Bytes announced (Content-Length) by upload requests this node is receiving now',
    registers: [this.registry],
  });
  readonly lockHandovers = new Counter({
    name: 'tus_lock_handovers_total',
    help: 'Upload locks this node let go of because a request elsewhere asked for them',
    registers: [this.registry],
  });
  /** Staging file system, read once per scrape (set by {@link watchStagingDisk}). */
  private stagingDisk: (() => Promise<{ free: number; size: number } | null>) | null = null;
  readonly stagingFree: Gauge = new Gauge({
    name: 'tus_staging_free_bytes',
    help: 'Free bytes (for unprivileged users) on the staging file system, read at each scrape',
    registers: [this.registry],
    collect: async () => {
      const disk = await this.stagingDisk?.();
      if (disk) this.stagingFree.set(disk.free);
    },
  });
  readonly stagingSize: Gauge = new Gauge({
    name: 'tus_staging_size_bytes',
    help: 'Size of the staging file system, read at each scrape',
    registers: [this.registry],
    collect: async () => {
      const disk = await this.stagingDisk?.();
      if (disk) this.stagingSize.set(disk.size);
    },
  });

  /** What `GET /readyz` answers, asked at each scrape (set by {@link watchReadiness}). */
  private readinessProbe: (() => Promise<boolean>) | null = null;
  readonly ready: Gauge = new Gauge({
    name: 'tus_ready',
    help: '1 when this node would answer GET /readyz with 200 (started, not draining, backing services reachable), else 0',
    registers: [this.registry],
    collect: async () => {
      if (this.readinessProbe) this.ready.set((await this.readinessProbe().catch(() => false)) ? 1 : 0);
    },
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * `tus_circuit_state{service}` (0 closed, 1 half-open, 2 open) and `tus_bulkhead_{limit,in_use,waiting}{bulkhead}`,
   * read at each scrape from `circuits` and from `more` (bulkheads kept elsewhere, such as the S3 part uploads).
   */
  watch(circuits: Circuits, more: () => Record<string, BulkheadUse> = () => ({})): void {
    const registers = [this.registry];
    new Gauge({
      name: 'tus_circuit_state', help: 'Circuit breaker state per outside service: 0 closed, 1 half-open, 2 open', labelNames: ['service'], registers,
      collect() {
        for (const [service, state] of Object.entries(circuits.states())) this.set({ service }, CIRCUIT_STATE_VALUE[state]);
      },
    });
    const bulkhead = (name: string, help: string, pick: (u: BulkheadUse) => number) =>
      new Gauge({
        name, help, labelNames: ['bulkhead'], registers,
        collect() {
          for (const [b, use] of Object.entries({ ...circuits.bulkheadUse(), ...more() })) this.set({ bulkhead: b }, pick(use));
        },
      });
    bulkhead('tus_bulkhead_limit', 'Calls allowed at once per bulkhead (S3 part uploads, …)', (u) => u.limit);
    bulkhead('tus_bulkhead_in_use', 'Calls running now per bulkhead', (u) => u.inUse);
    bulkhead('tus_bulkhead_waiting', 'Calls waiting for a slot per bulkhead (-1: not known)', (u) => u.waiting);
  }

  /** Reports `probe` (the node's readiness) as `tus_ready` at each scrape. */
  watchReadiness(probe: () => Promise<boolean>): void {
    this.readinessProbe = probe;
  }

  /** Reports the file system holding `dir` (or its nearest existing parent) as the staging disk. */
  watchStagingDisk(dir: string): void {
    const read = async (target: string): Promise<{ free: number; size: number } | null> => {
      try {
        const { bavail, blocks, bsize } = await fsp.statfs(target);
        return { free: bavail * bsize, size: blocks * bsize };
      } catch (err) {
        const parent = path.dirname(target);
        return (err as NodeJS.ErrnoException).code === 'ENOENT' && parent !== target ? read(parent) : null;
      }
    };
    // Both gauges are collected in the same scrape: one statfs serves them.
    let pending: Promise<{ free: number; size: number } | null> | null = null;
    this.stagingDisk = () =>
      (pending ??= read(path.resolve(dir)).finally(() => setTimeout(() => (pending = null), 250).unref()));
  }
}

const MiB = 1024 * 1024;
/** The few size classes of `tus_upload_duration_seconds` (bounded label values). */
export const SIZE_CLASSES = [
  { label: 'lt_1m', below: MiB },
  { label: '1m_16m', below: 16 * MiB },
  { label: '16m_256m', below: 256 * MiB },
  { label: '256m_4g', below: 4096 * MiB },
  { label: 'ge_4g', below: Infinity },
] as const;

/** The size class of an upload of `bytes`: `lt_1m`, `1m_16m`, `16m_256m`, `256m_4g` or `ge_4g`. */
export function sizeClass(bytes: number): (typeof SIZE_CLASSES)[number]['label'] {
  return SIZE_CLASSES.find((c) => bytes < c.below)!.label;
}
