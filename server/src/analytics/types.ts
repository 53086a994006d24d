import type { JobAttempt } from '@tus-edge/processors';
import type { Percentiles } from './histogram.js';

/** Whose history a query reads: a user's own (both set), or, for the operator, everyone's or a filter. */
export interface HistoryScope {
  tenant?: string;
  owner?: string;
}

/** An attempt as the history stores it: the worker's record with the upload's owner filled in. */
export type StoredAttempt = JobAttempt & { tenant: string; owner: string };

/** An upload that finished (counted in uploads and bytes) or expired unfinished (abandoned). */
export interface UsageEvent {
  uploadId: string;
  tenant: string;
  owner: string;
  event: 'finished' | 'abandoned';
  bytes: number;
  at: string;
}

export type GroupBy = 'kind' | 'mediaType';
export type Interval = '1h' | '1d';

export interface RangeQuery {
  from: Date;
  to: Date;
  scope: HistoryScope;
}

export interface ProcessingQuery extends RangeQuery {
  groupBy: GroupBy;
  interval?: Interval;
}

export interface SeriesPoint {
  start: string;
  jobs: number;
  failed: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

/** One group of `GET /api/analytics/processing` (the shape agreed with the admin page). */
export interface ProcessingGroup {
  key: string;
  /** Jobs that ended (done or failed; retried attempts are not jobs of their own). */
  jobs: number;
  done: number;
  failed: number;
  failureRate: number;
  /** Run time of done attempts; null without one. */
  durationMs: Percentiles | null;
  /** Queue wait of done and failed attempts; null without one. */
  queueWaitMs: Percentiles | null;
  series?: SeriesPoint[];
}

export interface ProcessingReport {
  from: string;
  to: string;
  groupBy: GroupBy;
  interval?: Interval;
  groups: ProcessingGroup[];
}

export interface GenerationModel {
  model: string;
  /** Attempts that called the model (done, failed, retried or postponed). */
  requests: number;
  failures: number;
  promptTokens: number;
  completionTokens: number;
  /** Run time of done attempts; null without one. */
  latencyMs: Percentiles | null;
}

export interface GenerationReport {
  from: string;
  to: string;
  models: GenerationModel[];
}

export interface UsageDay {
  day: string;
  uploads: number;
  bytes: number;
  abandoned: number;
}

export interface OwnerUsage {
  tenant: string;
  owner: string;
  uploads: number;
  bytes: number;
  abandoned: number;
}

export interface UsageReport {
  from: string;
  to: string;
  days: UsageDay[];
  /** The operator's view: per owner (largest by bytes first). */
  owners?: OwnerUsage[];
}

/** What one rollup run folded. */
export interface RollupSummary {
  /** Days folded, oldest first. */
  days: string[];
  attempts: number;
  usageEvents: number;
}

/** One day's report (written as JSON and CSV into the results store by the rollup job). */
export interface DailyReport {
  day: string;
  kinds: Array<{ kind: string; attempts: number; done: number; failed: number; failureRate: number; durationMs: Percentiles | null; queueWaitMs: Percentiles | null; promptTokens: number; completionTokens: number; metrics: Record<string, number> }>;
  usage: { uploads: number; bytes: number; abandoned: number };
}

/**
 * The job history (issue 15, analytics), in the catalogue database. Writes are idempotent (by attempt
 * id, by upload id); queries read raw attempts and the daily rollup together, so folding old attempts
 * changes no count (percentiles of folded days come from histograms, within 5 %).
 */
export interface JobHistory {
  /** Creates or upgrades the schema (the catalogue's migrations, under their lock). */
  migrate(): Promise<void>;
  recordAttempts(attempts: StoredAttempt[]): Promise<void>;
  recordUsage(event: UsageEvent): Promise<void>;
  processing(query: ProcessingQuery): Promise<ProcessingReport>;
  generation(query: RangeQuery): Promise<GenerationReport>;
  usage(query: RangeQuery, perOwner: boolean): Promise<UsageReport>;
  /** Folds raw attempts and usage events that ended before `before`'s day (UTC) into daily rows and deletes them. */
  rollup(before: Date): Promise<RollupSummary>;
  /** The report of `day` (`YYYY-MM-DD`), from raw rows and daily rows alike. */
  dailyReport(day: string): Promise<DailyReport>;
  close(): Promise<void>;
}
