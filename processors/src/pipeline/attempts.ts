import type { Job } from './job-source.js';

/** How one delivery of a job ended (see `ExecuteResult`): `retry`/`postponed` are followed by another attempt. */
export type AttemptOutcome = 'done' | 'failed' | 'retry' | 'postponed' | 'skipped' | 'duplicate';

/**
 * One attempt of one job, as the job history keeps it (issue 15, analytics): written once per
 * delivery when it settles. `id` (`<jobId>#<delivery>`) makes writing it twice harmless. The upload's
 * owner and tenant are not known to a worker: the server fills them in when it stores the attempt.
 */
export interface JobAttempt {
  version: 1;
  id: string;
  jobId: string;
  uploadId: string;
  kind: string;
  /** The upload's media type: sniffed from its bytes when known, else what the client declared; null when neither. */
  mediaType: string | null;
  /** Bytes of the upload. */
  size: number;
  /** When the job (or this retry) was queued; the queue wait runs from here to `startedAt`. */
  queuedAt: string;
  /** When the processor started; null when the delivery ended before a run (duplicate, skipped). */
  startedAt: string | null;
  endedAt: string;
  /** 1 on the first attempt (postponed deliveries spend none). */
  attempt: number;
  outcome: AttemptOutcome;
  /** Error catalogue code of a failed, retried or postponed attempt. */
  errorCode: string | null;
  /** Generation: the model that answered, and the tokens it used in this attempt. */
  model: string | null;
  promptTokens: number;
  completionTokens: number;
  /** Custom counters the processor reported (`ctx.metric(name, value)`), summed per name. */
  metrics: Record<string, number>;
  /** The node (worker) that ran the attempt. */
  node: string;
}

/**
 * Where the runtime hands each settled attempt. One method; implementations: the server's history
 * writer (in-process runtime, straight into the catalogue database) and
 * {@link JetStreamAttemptPublisher} (separate workers: the server's consumer writes them).
 * Recording never decides a job's fate: a rejection is logged, the job stays settled.
 */
export interface AttemptRecorder {
  record(attempt: JobAttempt): Promise<void>;
}

/** Custom counter names: short, bounded (they become keys of the history's metrics). */
const METRIC_NAME = /^[a-z][a-z0-9_.-]{0,62}$/;
/** At most this many distinct custom counters per attempt; more are dropped. */
const MAX_METRICS = 32;

/**
 * What one delivery gathers while it runs (timings, tokens, model, custom counters), turned into a
 * {@link JobAttempt} when it settles.
 */
export class AttemptTrace {
  readonly metrics: Record<string, number> = {};
  queuedAt: Date;
  startedAt: Date | null = null;
  /** When the processor's run ended (before the bookkeeping that settles it); else when the delivery settled. */
  ranUntil: Date | null = null;
  attempt: number;
  mediaType: string | null = null;
  errorCode: string | null = null;
  model: string | null = null;
  promptTokens = 0;
  completionTokens = 0;

  constructor(private readonly job: Job) {
    this.queuedAt = job.persistedAt;
    this.attempt = job.deliveryCount;
  }

  /** Adds `value` to the custom counter `name` (invalid names and non-finite values are ignored). */
  metric(name: string, value: number): void {
    if (!METRIC_NAME.test(name) || !Number.isFinite(value)) return;
    if (!(name in this.metrics) && Object.keys(this.metrics).length >= MAX_METRICS) return;
    this.metrics[name] = (this.metrics[name] ?? 0) + value;
  }

  /** Tokens a generation API used (summed over the attempt's calls) and the model that answered. */
  tokens(usage: { prompt: number; completion: number; model?: string }): void {
    this.promptTokens += Math.max(0, Math.round(usage.prompt));
    this.completionTokens += Math.max(0, Math.round(usage.completion));
    if (usage.model) this.model = usage.model;
  }

  toAttempt(outcome: AttemptOutcome, endedAt: Date, node: string): JobAttempt {
    const { job } = this;
    return {
      version: 1,
      // A job the operator retried counts its deliveries from 1 again: its attempts get ids of their own.
      id: job.retried ? `${job.id}#retry-${job.persistedAt.getTime()}#${job.deliveryCount}` : `${job.id}#${job.deliveryCount}`,
      jobId: job.id,
      uploadId: job.event.uploadId,
      kind: job.kind,
      mediaType: this.mediaType ?? declaredType(job.event.metadata),
      size: job.event.size,
      queuedAt: this.queuedAt.toISOString(),
      startedAt: this.startedAt?.toISOString() ?? null,
      endedAt: (this.ranUntil ?? endedAt).toISOString(),
      attempt: this.attempt,
      outcome,
      errorCode: this.errorCode,
      model: this.model,
      promptTokens: this.promptTokens,
      completionTokens: this.completionTokens,
      metrics: { ...this.metrics },
      node,
    };
  }
}

/** The media type the client declared (`filetype` of tus-js-client, or `contentType`), lower case. */
function declaredType(metadata: Record<string, string | null>): string | null {
  const value = metadata.filetype ?? metadata.contentType ?? metadata.type ?? null;
  return value ? value.toLowerCase().split(';')[0]!.trim() || null : null;
}

/** Checks that `value` is a {@link JobAttempt} v1 (from the pipeline); returns it typed or throws. */
export function parseJobAttempt(value: unknown): JobAttempt {
  const a = value as Partial<JobAttempt> | null;
  const ok =
    typeof a === 'object' && a !== null && a.version === 1 &&
    typeof a.id === 'string' && typeof a.jobId === 'string' && typeof a.uploadId === 'string' && typeof a.kind === 'string' &&
    typeof a.queuedAt === 'string' && typeof a.endedAt === 'string' && typeof a.attempt === 'number' && typeof a.outcome === 'string' &&
    typeof a.size === 'number' && typeof a.metrics === 'object' && a.metrics !== null;
  if (!ok) throw new Error('invalid job attempt record');
  return a as JobAttempt;
}
