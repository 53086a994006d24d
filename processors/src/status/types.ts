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
  /**
   * The processing request (`POST /api/files/:id/process`) this job belongs to: its job id, the event
   * id of its run. Absent: the upload's own event ({@link ProcessingStatus.eventId}).
   */
  runId?: string;
  /** The run a request replaced for this kind (one level: older runs are only in the result versions). */
  previous?: PreviousRun;
}

/** What is kept of a run a request replaced. */
export interface PreviousRun {
  runId: string;
  state: JobState;
  finishedAt?: string;
  /** What that run recorded in its result, when it did (generate: its template; requests: options). */
  template?: string;
  options?: Record<string, unknown>;
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
   * The update comes from a processing request's run (`eventId` is the request's): it changes only a
   * job that run claimed (see {@link applyClaim}) and leaves the upload's other jobs as they are.
   */
  request?: boolean;
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
  /**
   * Claims `kinds` for a processing request's run (see {@link applyClaim}): all or none. Resolves with
   * the kinds another run still has queued or running (nothing claimed then), or `[]`.
   */
  claim(claim: StatusClaim): Promise<string[]>;
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
    current && (current.eventId === update.eventId || update.request)
      ? current
      : { uploadId: update.uploadId, eventId: update.eventId, state: 'queued', jobs: {}, updatedAt: now.toISOString() };
  const previous = base.jobs[update.kind];
  // Another run owns the job now (a request took the kind over, or a newer request did): a late update of the earlier run changes nothing.
  if (previous && runOf(base, update.kind) !== update.eventId) return null;
  const reopened = update.reopen === true && previous?.state === 'failed';
  if (previous && TERMINAL_STATES.has(previous.state) && !reopened) return null;
  const defaults: Pick<JobStatus, 'attempts' | 'state'> = { attempts: 0, state: 'queued' };
  const merged: JobStatus = {
    ...defaults,
    ...previous,
    ...update.patch,
    kind: update.kind,
    ...(base.eventId !== update.eventId && { runId: update.eventId }),
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

/** The run a job's status belongs to: a request's job id, or the upload's event id. */
export function runOf(status: ProcessingStatus, kind: string): string | undefined {
  const job = status.jobs[kind];
  return job && (job.runId ?? status.eventId);
}

/** The job of `kind` when it belongs to run `eventId`, else undefined (absent, or another run's). */
export function jobOfRun(status: ProcessingStatus | null, eventId: string, kind: string): JobStatus | undefined {
  return status && runOf(status, kind) === eventId ? status.jobs[kind] : undefined;
}

/** A processing request's claim on some kinds of an upload (see {@link applyClaim}). */
export interface StatusClaim {
  uploadId: string;
  /** The upload's own event id: a status that does not exist yet is created under it. */
  uploadEventId: string;
  /** The request's job id (the event id of its run). */
  runId: string;
  kinds: readonly string[];
  lane: Lane;
}

/**
 * The merge rule of `claim`: each of `kinds` becomes `queued` for the request's run, keeping what the
 * earlier run was as `previous` — unless another run of one of them is still queued or processing
 * (`busy`: nothing changes). Claiming again for the same run changes nothing. The upload's other
 * jobs are left as they are, so the status stream shows the re-run beside them.
 */
export function applyClaim(current: ProcessingStatus | null, claim: StatusClaim, now: Date): { next: ProcessingStatus | null; busy: string[] } {
  const at = now.toISOString();
  const base: ProcessingStatus = current ?? { uploadId: claim.uploadId, eventId: claim.uploadEventId, state: 'queued', jobs: {}, updatedAt: at };
  const mine = (kind: string) => runOf(base, kind) === claim.runId;
  const busy = claim.kinds.filter((k) => base.jobs[k] && !mine(k) && !TERMINAL_STATES.has(base.jobs[k].state));
  const missing = claim.kinds.filter((k) => !mine(k));
  if (busy.length > 0 || missing.length === 0) return { next: null, busy };
  const jobs = { ...base.jobs };
  for (const kind of missing) {
    const before = base.jobs[kind];
    const previous: PreviousRun | undefined = before && {
      runId: runOf(base, kind)!, state: before.state,
      ...(before.finishedAt && { finishedAt: before.finishedAt }),
      ...(typeof before.result?.template === 'string' && { template: before.result.template }),
      ...(isObject(before.result?.options) && { options: before.result.options }),
    };
    jobs[kind] = {
      kind, state: 'queued', lane: claim.lane, attempts: 0, queuedAt: at, updatedAt: at,
      ...(base.eventId !== claim.runId && { runId: claim.runId }), ...(previous && { previous }),
    };
  }
  return { next: { ...base, jobs, ...aggregate(jobs), updatedAt: at }, busy: [] };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

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
