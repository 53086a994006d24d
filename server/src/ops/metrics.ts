import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

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
}
