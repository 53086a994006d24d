import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CIRCUIT_STATE_VALUE } from '../common/breaker.js';
import type { Circuits } from '../common/circuits.js';

/** Every metric of the processor runtime, on its own registry (or one passed in by the server). */
export class RuntimeMetrics {
  readonly inFlight: Gauge<'kind'>;
  readonly duration: Histogram<'kind' | 'outcome'>;
  readonly jobs: Counter<'kind' | 'outcome'>;
  readonly failures: Counter<'kind' | 'code' | 'final'>;
  readonly pending: Gauge<'kind' | 'lane'>;
  readonly pickup: Histogram<'lane'>;
  readonly unacked: Gauge<'kind' | 'lane'>;
  readonly processing: Histogram<'kind' | 'media'>;
  readonly workers: Gauge<'kind'>;
  readonly tokens: Counter<'kind' | 'type'>;
  readonly deadLettered: Counter<'kind'>;
  readonly ready: Gauge;
  private readinessProbe: (() => boolean) | null = null;

  /** `defaults`: also collect prom-client's Node metrics (not when sharing the server's registry). */
  constructor(readonly registry: Registry = new Registry(), defaults = false) {
    const registers = [registry];
    this.inFlight = new Gauge({ name: 'processor_jobs_in_flight', help: 'Jobs running now', labelNames: ['kind'], registers });
    this.duration = new Histogram({
      name: 'processor_job_duration_seconds',
      help: 'Duration of job attempts by outcome (done, retry, failed)',
      labelNames: ['kind', 'outcome'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900],
      registers,
    });
    this.jobs = new Counter({
      name: 'processor_jobs_total',
      help: 'Finished job deliveries by outcome (done, retry, postponed, failed, skipped, duplicate)',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.failures = new Counter({
      name: 'processor_job_failures_total',
      help: 'Failed job attempts by error code; final="true" when the job was dead-lettered',
      labelNames: ['kind', 'code', 'final'],
      registers,
    });
    this.pending = new Gauge({ name: 'processor_jobs_pending', help: 'Jobs waiting to start', labelNames: ['kind', 'lane'], registers });
    this.pickup = new Histogram({
      name: 'processor_job_pickup_seconds',
      help: 'From the upload event being persisted to its job starting (first delivery only)',
      labelNames: ['lane'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers,
    });
    this.unacked = new Gauge({
      name: 'processor_jobs_unacked',
      help: 'Jobs delivered and not yet acknowledged (running, or waiting for a retry); with processor_jobs_pending, the consumer lag',
      labelNames: ['kind', 'lane'],
      registers,
    });
    this.processing = new Histogram({
      name: 'processor_processing_seconds',
      help: 'Run time of successful jobs by kind and media class (video, audio, pdf, docx, pptx, text, markdown, other)',
      labelNames: ['kind', 'media'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
      registers,
    });
    this.workers = new Gauge({ name: 'processor_workers', help: 'Worker slots this process runs, by kind', labelNames: ['kind'], registers });
    this.tokens = new Counter({
      name: 'processor_generation_tokens_total',
      help: 'Tokens the generation API reported as used, by kind and type (prompt, completion)',
      labelNames: ['kind', 'type'],
      registers,
    });
    // Besides processor_job_failures_total{final="true"}: one series per kind that exists from the start
    // at 0, so increase() sees the first dead letter (a labelled series born at 1 shows no increase).
    this.deadLettered = new Counter({
      name: 'processor_jobs_dead_lettered_total',
      help: 'Jobs that failed for good and were dead-lettered, by kind',
      labelNames: ['kind'],
      registers,
    });
    const probe = () => this.readinessProbe;
    const ready: Gauge = new Gauge({
      name: 'processor_ready',
      help: '1 when this runtime would answer GET /readyz with 200 (its job source can deliver, not draining), else 0',
      registers,
      collect() {
        const p = probe();
        if (p) ready.set(p() ? 1 : 0);
      },
    });
    this.ready = ready;
    if (defaults) collectDefaultMetrics({ register: registry });
  }

  /**
   * `processor_circuit_state{service}` (0 closed, 1 half-open, 2 open) and
   * `processor_bulkhead_{limit,in_use,waiting}{bulkhead}`, read from `circuits` at each scrape.
   */
  watch(circuits: Circuits): void {
    const registers = [this.registry];
    new Gauge({
      name: 'processor_circuit_state', help: 'Circuit breaker state per outside service: 0 closed, 1 half-open, 2 open', labelNames: ['service'], registers,
      collect() {
        for (const [service, state] of Object.entries(circuits.states())) this.set({ service }, CIRCUIT_STATE_VALUE[state]);
      },
    });
    const bulkhead = (name: string, help: string, pick: (u: { limit: number; inUse: number; waiting: number }) => number) =>
      new Gauge({
        name, help, labelNames: ['bulkhead'], registers,
        collect() {
          for (const [b, use] of Object.entries(circuits.bulkheadUse())) this.set({ bulkhead: b }, pick(use));
        },
      });
    bulkhead('processor_bulkhead_limit', 'Calls allowed at once per bulkhead (processor kind, OpenAI client)', (u) => u.limit);
    bulkhead('processor_bulkhead_in_use', 'Calls running now per bulkhead', (u) => u.inUse);
    bulkhead('processor_bulkhead_waiting', 'Calls waiting for a slot per bulkhead', (u) => u.waiting);
  }

  /** Reports `probe` (what `GET /readyz` answers) as `processor_ready` at each scrape. */
  watchReadiness(probe: () => boolean): void {
    this.readinessProbe = probe;
  }
}
