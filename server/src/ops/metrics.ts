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
}
