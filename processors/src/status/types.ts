import type { Lane } from '../pipeline/job-source.js';

/** Processing state of one job (and, aggregated, of an upload). */
export type JobState = 'queued' | 'processing' | 'done' | 'failed' | 'skipped';

/** Terminal states never change again for the same event: this is what makes each effect happen once. */
export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['done', 'failed', 'skipped']);

/** Status of one processor kind for one upload. */
export interface JobStatus {
  kind: string;
  state: JobState;
  lane?: Lane;
  /** Delivery attempts started so far (postponed deliveries not counted). */
  attempts: number;
  /** Deliveries postponed because an outside service failed transiently (they spend no attempt). */
  postponed?: number;
  /** Why it failed or was skipped, or the last retryable error while queued for a retry. */
  reason?: string;
  /** Error catalogue code that goes with `reason`. */
  code?: string;
  /** 0..1 while processing, when the processor reports it. */
  progress?: number;
  /** Small inline result (for fingerprint: sha256, mime, …). */
  result?: Record<string, unknown>;
  /** Reference to a larger result stored elsewhere (file path or s3://bucket/key), or null. */
  outputLocation?: string | null;
  /** Bytes of the stored output, 0 when the result is inline only. */
  outputSizeBytes?: number;
  /** Set when the result was taken from this upload's job: the same bytes were processed there (dedup). */
  reusedFrom?: string;
  /** Duration of the successful attempt. */
  processingTimeMs?: number;
  queuedAt?: string;
  startedAt?: string;
  finishedAt?: string;
  updatedAt: string;
}

/** Processing status of one upload: one {@link JobStatus} per processor kind plus an aggregate. */
export interface ProcessingStatus {
  uploadId: string;
  eventId: string;
  /**
   * Aggregate: `failed` if any job failed; else `processing` if any runs; else `queued` if any waits;
   * `skipped` if every processor skipped it; else `done`.
   */
  state: JobState;
  /** For `failed`: `<kind>: <reason>` of each failed job. */
  reason?: string;
  jobs: Record<string, JobStatus>;
  updatedAt: string;
}

export type JobStatusPatch = Partial<Omit<JobStatus, 'kind' | 'updatedAt'>>;

export interface StatusUpdate {
  uploadId: string;
  eventId: string;
  kind: string;
  patch: JobStatusPatch;
  /**
   * The operator retries a dead-lettered job: a `failed` job of the same event may take this patch
   * (back to `queued`) instead of being left as it is. Other terminal states stay final.
   */
  reopen?: boolean;
}

export type StatusListener = (status: ProcessingStatus) => void;

/**
 * Processing status per upload. Implementations: {@link RedisStatusStore} (distributed),
 * {@link FileStatusStore} (embedded, under DATA_DIR), {@link MemoryStatusStore} (tests).
 */
export interface StatusStore {
  get(uploadId: string): Promise<ProcessingStatus | null>;
  /**
   * Merges `patch` into the job's status atomically and notifies subscribers. A job already in a
   * terminal state for the same event is left unchanged (the current status is returned).
   */
  update(update: StatusUpdate): Promise<ProcessingStatus>;
  /** Calls `listener` with the whole status after every change of `uploadId`. Resolves once listening. */
  subscribe(uploadId: string, listener: StatusListener): Promise<() => Promise<void>>;
  /**
   * Records `queued` for each of `kinds` that has no status for this event yet, so the aggregate
   * cannot look final while some kind has not been dispatched. Jobs already recorded are untouched.
   */
  plan(uploadId: string, eventId: string, kinds: readonly string[]): Promise<ProcessingStatus | null>;
  /** Forgets the upload's status (the upload was removed). Subscribers are not notified. */
  remove(uploadId: string): Promise<void>;
  /**
   * Drops statuses unchanged for the store's TTL (`PROCESSOR_STATUS_TTL`); returns how many. Stores
   * whose backend expires keys by itself (Redis) have nothing to do here.
   */
  prune(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The pure merge rule every store applies. Returns `null` when nothing changes (terminal job, or a
 * patch equal to the current values).
 */
export function applyUpdate(current: ProcessingStatus | null, update: StatusUpdate, now: Date): ProcessingStatus | null {
  const base: ProcessingStatus =
    current && current.eventId === update.eventId
      ? current
      : { uploadId: update.uploadId, eventId: update.eventId, state: 'queued', jobs: {}, updatedAt: now.toISOString() };
  const previous = base.jobs[update.kind];
  const reopened = update.reopen === true && previous?.state === 'failed';
  if (previous && TERMINAL_STATES.has(previous.state) && !reopened) return null;
  const defaults: Pick<JobStatus, 'attempts' | 'state'> = { attempts: 0, state: 'queued' };
  const merged: JobStatus = {
    ...defaults,
    ...previous,
    ...update.patch,
    kind: update.kind,
    updatedAt: now.toISOString(),
  };
  if (previous && sameJob(previous, merged)) return null;
  const jobs = { ...base.jobs, [update.kind]: merged };
  const next: ProcessingStatus = { ...base, jobs, ...aggregate(jobs), updatedAt: now.toISOString() };
  // A reopened job can take the aggregate out of `failed`: the old failure's reason goes with it.
  if (next.state !== 'failed') delete next.reason;
  return next;
}

/** The merge rule of `plan`: `queued` for the kinds without a status for this event; null when none is missing. */
export function applyPlan(current: ProcessingStatus | null, uploadId: string, eventId: string, kinds: readonly string[], now: Date): ProcessingStatus | null {
  const base: ProcessingStatus =
    current && current.eventId === eventId ? current : { uploadId, eventId, state: 'queued', jobs: {}, updatedAt: now.toISOString() };
  const missing = kinds.filter((kind) => !base.jobs[kind]);
  if (missing.length === 0) return null;
  const at = now.toISOString();
  const jobs = { ...base.jobs };
  for (const kind of missing) jobs[kind] = { kind, state: 'queued', attempts: 0, queuedAt: at, updatedAt: at };
  return { ...base, jobs, ...aggregate(jobs), updatedAt: at };
}

function sameJob(a: JobStatus, b: JobStatus): boolean {
  return JSON.stringify({ ...a, updatedAt: '' }) === JSON.stringify({ ...b, updatedAt: '' });
}

function aggregate(jobs: Record<string, JobStatus>): Pick<ProcessingStatus, 'state' | 'reason'> {
  const all = Object.values(jobs);
  const failed = all.filter((j) => j.state === 'failed');
  if (failed.length > 0) return { state: 'failed', reason: failed.map((j) => `${j.kind}: ${j.reason ?? 'failed'}`).join('; ') };
  if (all.some((j) => j.state === 'processing')) return { state: 'processing' };
  if (all.some((j) => j.state === 'queued')) return { state: 'queued' };
  if (all.every((j) => j.state === 'skipped')) return { state: 'skipped' };
  return { state: 'done' };
}
