import type { Readable } from 'node:stream';
import type { UploadLocation } from '../pipeline/event.js';
import { classifyError, describeError, ProcessingError } from '../errors.js';
import type { Job } from '../pipeline/job-source.js';
import type { JobLeases } from '../leases/types.js';
import type { Logger } from '../logger.js';
import { outcomeOf, type OutcomePublisher } from '../outcomes.js';
import { contentClass, declaredClass, type MediaClass } from '../processors/media-types.js';
import { SNIFF_BYTES, sniff } from '../processors/sniff.js';
import type { Processor, SniffedType } from '../processors/types.js';
import { uploadResults, type ResultStore } from '../results/types.js';
import { jobOfRun, TERMINAL_STATES, type JobStatus, type JobStatusPatch, type ProcessingStatus, type StatusStore } from '../status/types.js';
import { keepEarlierResults, superseded } from './runs.js';
import { waitForJobs } from './wait-status.js';
import type { RuntimeMetrics } from './metrics.js';
import { contextFrom, inSpan } from '../tracing/spans.js';
import { runWaitingForCircuits } from './circuit-wait.js';
import type { Postponements } from './postpone.js';
import { runOrReuse } from './reuse.js';
import { AttemptTrace, type AttemptRecorder } from '../pipeline/attempts.js';

export interface ExecuteDeps {
  processors: ReadonlyMap<string, Processor>;
  status: StatusStore;
  outcomes: OutcomePublisher | null;
  metrics: RuntimeMetrics;
  logger: Logger;
  openStream(location: UploadLocation, signal: AbortSignal): Promise<Readable>;
  maxDeliver: number;
  ackWaitMs: number;
  jobTimeoutMs: number;
  backoff(attempt: number): number;
  /** Aborted when the drain grace period is over: running jobs stop and are retried. */
  shutdown: AbortSignal;
  /** The result store for an upload at this location (chosen once at start). */
  resultsFor(location: UploadLocation): ResultStore;
  /** Who runs which job now, shared by every worker of the queue (see {@link leaseMs}). */
  leases: JobLeases;
  /** Deliveries postponed on outside services' transient failures, which spend no attempt. */
  postponements: Postponements;
  /** Where each settled attempt goes (the job history); none: not recorded. */
  attempts?: AttemptRecorder | null;
  /** This worker's name in the attempt records. */
  nodeName?: string;
}

export type ExecuteResult = 'done' | 'retry' | 'postponed' | 'failed' | 'skipped' | 'duplicate';

/**
 * How long a job's lease lasts without a heartbeat: a little less than the ack wait, so that when a
 * worker dies its lease has run out by the time the broker redelivers the job (heartbeats every third
 * of the ack wait renew both; one missed renewal is tolerated).
 */
export const leaseMs = (ackWaitMs: number): number => Math.max(100, Math.floor(ackWaitMs * 0.75));

/** How long a duplicate's job waits for the original upload's status to appear before it runs on its own. */
const REUSE_APPEAR_WITHIN_MS = 10_000;

/** Progress is written to the status at most this often. */
const PROGRESS_INTERVAL_MS = 1000;

/**
 * Runs one delivery of a job and settles it:
 * - the same job already running here or on another worker (a redelivery: its lease is held) →
 *   retried after an ack wait, not run; a run whose lease ran out and was taken stops unsettled;
 * - already `done`/`failed`/`skipped` for this event → no second effect: the outcome is republished
 *   (deduplicated by msgID) and the job acked (or dead-lettered again if it had failed);
 * - delivered more than `maxDeliver` times (every attempt died) → dead-letter `MAX_DELIVERIES`;
 * - processor declines (`accepts` with the sniffed type) → `skipped`, ack;
 * - success → status `done` with the result, `media.processed`, ack; but when the job stored results and
 *   the upload was removed while it ran, the results are removed again and the job is `skipped`;
 * - an outside service's transient failure (OpenAI, S3, Redis), at most `PROCESSOR_MAX_POSTPONES`
 *   times → postponed: status `queued` with the reason, nak with a delay, the attempt not counted;
 * - retryable error before the last attempt → status `queued` with the reason, nak with backoff;
 * - permanent error or last attempt → status `failed`, `media.failed`, dead-letter record, term.
 * Status is always written before the job is settled, so a crash in between is repaired by the guard.
 */
export function executeJob(job: Job, deps: ExecuteDeps): Promise<ExecuteResult> {
  // Each delivery is a span in the trace of the request that finished the upload (see the event's traceparent).
  const attributes = { 'upload.id': job.event.uploadId, 'job.id': job.id, 'job.kind': job.kind, 'job.lane': job.lane, 'job.delivery': job.deliveryCount };
  return inSpan(`job ${job.kind}`, { attributes }, async (span) => {
    const trace = new AttemptTrace(job);
    const outcome = await executeDelivery(job, deps, trace);
    span.setAttribute('job.outcome', outcome);
    if (deps.attempts) await recordAttempt(deps.attempts, trace, outcome, deps);
    return outcome;
  }, contextFrom(job.event.traceparent));
}

/** Hands the settled attempt to the history; a failure there is logged and never changes the job. */
async function recordAttempt(recorder: AttemptRecorder, trace: AttemptTrace, outcome: ExecuteResult, deps: ExecuteDeps): Promise<void> {
  try {
    await recorder.record(trace.toAttempt(outcome, new Date(), deps.nodeName ?? ''));
  } catch (err) {
    deps.logger.warn('job attempt not recorded in the history', { err: (err as Error).message });
  }
}

async function executeDelivery(job: Job, deps: ExecuteDeps, trace: AttemptTrace): Promise<ExecuteResult> {
  const { event, kind } = job;
  const log = deps.logger.child({ job: job.id, attempt: job.deliveryCount });
  const update = (patch: JobStatusPatch) => deps.status.update({ uploadId: event.uploadId, eventId: event.eventId, kind, patch, ...(event.request && { request: true }) });
  const count = (outcome: ExecuteResult) => {
    deps.metrics.jobs.inc({ kind, outcome });
    return outcome;
  };
  let leased: boolean;
  try {
    leased = await deps.leases.acquire(job.id, leaseMs(deps.ackWaitMs));
  } catch (err) {
    log.error('job lease store unreachable; will retry', { err: (err as Error).message });
    return count(await retryBookkeeping(job, err, deps));
  }
  if (!leased) {
    // Redelivered (its ack wait ran out, e.g. while the broker was unreachable) while the first delivery
    // still runs, here or on another worker: running it twice would do its effect twice. Come back once
    // that one is settled (or its worker is gone and the lease ran out).
    log.debug('running elsewhere (lease held); delivery postponed');
    deps.postponements.leaseHeld(job.id);
    await job.retry(deps.ackWaitMs).catch(() => undefined);
    return count('duplicate');
  }
  try {
    if (job.deliveryCount === 1) deps.metrics.pickup.observe({ lane: job.lane }, Math.max(0, Date.now() - job.persistedAt.getTime()) / 1000);
    const current = await deps.status.get(event.uploadId);
    const prior = jobOfRun(current, event.eventId, kind);
    // A later run owns the kind (a processing request ran it again): this delivery has no effect.
    if (superseded(current, event, kind)) return await job.ack().then(() => count('duplicate'));
    // Deliveries postponed on an outside service's failure are not attempts.
    const postponed = deps.postponements.count(job.id, prior?.postponed);
    const attempt = Math.max(1, job.deliveryCount - postponed);
    trace.attempt = attempt;
    // A retry waited in the queue since it was put back (its status then turned `queued`).
    if (job.deliveryCount > 1 && prior?.state === 'queued' && prior.updatedAt) trace.queuedAt = new Date(prior.updatedAt);
    if (current && prior && TERMINAL_STATES.has(prior.state)) {
      const outcome = outcomeOf(current, kind);
      if (outcome) await deps.outcomes?.publish(outcome);
      if (prior.state === 'failed') await job.deadLetter({ code: prior.code ?? 'INTERNAL', reason: prior.reason ?? 'failed' });
      else await job.ack();
      log.debug('already settled; no second effect', { state: prior.state });
      return count('duplicate');
    }
    if (attempt > deps.maxDeliver) {
      const err = new ProcessingError('MAX_DELIVERIES', `${deps.maxDeliver} deliveries ended without an outcome (worker lost or timed out)`);
      trace.errorCode = err.code;
      return count(await fail(job, attempt, err, deps, update, log));
    }
    const processor = deps.processors.get(kind);
    if (!processor) throw new Error(`no processor of kind "${kind}" in this runtime`);
    const sniffed = sniffedOf(current) ?? (processor.wantsType ? await sniffHead(event.location, deps) : undefined);
    if (sniffed && sniffed.mime !== 'application/octet-stream') trace.mediaType = sniffed.mime;
    if (!processor.accepts(event, sniffed)) {
      await update({ state: 'skipped', reason: `not applicable to ${sniffed?.mime ?? 'this upload'}`, finishedAt: new Date().toISOString() });
      await job.ack();
      return count('skipped');
    }
    const outcome = await run(job, { attempt, postponed, prior }, processor, sniffed, deps, update, log, trace);
    if (outcome !== 'postponed' && outcome !== 'retry') deps.postponements.forget(job.id);
    return count(outcome);
  } catch (err) {
    // Bookkeeping failed (status store or queue unreachable): let the job come back later.
    log.error('job bookkeeping failed; will retry', { err: (err as Error).message });
    return count(await retryBookkeeping(job, err, deps));
  } finally {
    await deps.leases.release(job.id).catch((err) => log.warn('job lease release failed; it runs out by itself', { err: (err as Error).message }));
  }
}

/**
 * Puts a job back after its bookkeeping failed: postponed (no attempt spent, status not written) when
 * Redis did not answer, else retried with backoff.
 */
async function retryBookkeeping(job: Job, err: unknown, deps: ExecuteDeps): Promise<ExecuteResult> {
  const classified = classifyError(err);
  const delay = classified.code === 'REDIS_UNAVAILABLE' ? deps.postponements.postpone(job.id, classified, deps.postponements.count(job.id, undefined)) : null;
  await job.retry(delay ?? deps.backoff(job.deliveryCount)).catch(() => undefined);
  return delay === null ? 'retry' : 'postponed';
}

async function run(job: Job, tries: { attempt: number; postponed: number; prior?: JobStatus }, processor: Processor, sniffed: SniffedType | undefined, deps: ExecuteDeps, update: (p: JobStatusPatch) => Promise<ProcessingStatus>, log: Logger, trace: AttemptTrace): Promise<ExecuteResult> {
  const { event, kind } = job;
  const { attempt } = tries;
  trace.startedAt = new Date();
  await update({ state: 'processing', lane: job.lane, attempts: attempt, startedAt: new Date().toISOString(), progress: 0 });
  const controller = new AbortController();
  const timeout = pausableTimeout(() => controller.abort(new ProcessingError('TIMEOUT')), deps.jobTimeoutMs);
  const onShutdown = () => controller.abort(new ProcessingError('SHUTTING_DOWN'));
  if (deps.shutdown.aborted) onShutdown();
  deps.shutdown.addEventListener('abort', onShutdown);
  const beat = () => {
    void job.working().catch((err) => log.warn('heartbeat failed', { err: (err as Error).message }));
    deps.leases.renew(job.id, leaseMs(deps.ackWaitMs)).then(
      (held) => held || controller.abort(new ProcessingError('LEASE_LOST')),
      (err) => log.warn('job lease renewal failed', { err: (err as Error).message }),
    );
  };
  const heartbeat = setInterval(beat, Math.max(100, Math.floor(deps.ackWaitMs / 3)));
  let lastProgress = 0;
  const started = performance.now();
  const results = uploadResults(deps.resultsFor(event.location), event.uploadId, controller.signal);
  let stored = false;
  const put: typeof results.put = (name, body) => {
    stored = true;
    return results.put(name, body);
  };
  const context: Parameters<Processor['run']>[1] = {
        working: beat,
        progress: (fraction) => {
          const now = Date.now();
          if (now - lastProgress < PROGRESS_INTERVAL_MS) return;
          lastProgress = now;
          beat();
          void update({ progress: Math.min(1, Math.max(0, fraction)) }).catch(() => undefined);
        },
        logger: log,
        signal: controller.signal,
        openStream: (location) => deps.openStream(location, controller.signal),
        attempt,
        results: { ...results, put },
        sniffed,
        // Waiting for other jobs (generate waits for a long video's transcript) is not this job's work:
        // PROCESSOR_JOB_TIMEOUT counts only the time it runs.
        waitFor: (kinds) => timeout.pausedWhile(waitForJobs(deps.status, event.uploadId, event.eventId, kinds, controller.signal, event.request?.kinds)),
        tokensUsed: (usage) => {
          deps.metrics.tokens.inc({ kind, type: 'prompt' }, Math.max(0, usage.prompt));
          deps.metrics.tokens.inc({ kind, type: 'completion' }, Math.max(0, usage.completion));
          trace.tokens(usage);
        },
        metric: (name, value) => trace.metric(name, value),
  };
  try {
    await keepEarlierResults(processor, event, deps.resultsFor(event.location), tries.prior?.previous, controller.signal);
    // A duplicate of stored bytes (event.reuseFrom) takes the original's result instead of running.
    const reuse = { status: deps.status, results: deps.resultsFor(event.location), pausedWhile: timeout.pausedWhile, appearWithinMs: REUSE_APPEAR_WITHIN_MS };
    const result = await runWaitingForCircuits(() => abortable(runOrReuse(processor, event, context, reuse), controller.signal), controller.signal, timeout, log, update);
    trace.ranUntil = new Date();
    if (stored && !(await sourceExists(event.location, deps, controller.signal))) {
      // Terminated or expired while the job ran: whatever it stored now belongs to nothing.
      await deps.resultsFor(event.location).remove(event.uploadId);
      await update({ state: 'skipped', reason: 'the upload was removed while it was processed', progress: undefined, finishedAt: new Date().toISOString() });
      await job.ack();
      log.info('upload removed during the job; its results were dropped');
      return 'skipped';
    }
    const ms = performance.now() - started;
    deps.metrics.duration.observe({ kind, outcome: 'done' }, ms / 1000);
    deps.metrics.processing.observe({ kind, media: mediaOf(event, sniffed) }, ms / 1000);
    const status = await update({
      state: 'done',
      progress: 1,
      reason: undefined,
      code: undefined,
      result: result.result,
      outputLocation: result.outputLocation ?? null,
      outputSizeBytes: result.outputSizeBytes ?? 0,
      ...(result.reusedFrom && { reusedFrom: result.reusedFrom }),
      processingTimeMs: Math.round(ms),
      finishedAt: new Date().toISOString(),
    });
    const outcome = outcomeOf(status, kind);
    if (outcome) await deps.outcomes?.publish(outcome);
    await job.ack();
    log.debug('job done', { ms: Math.round(ms) });
    return 'done';
  } catch (thrown) {
    const err = controller.signal.aborted ? (controller.signal.reason as ProcessingError) : classifyError(thrown);
    trace.ranUntil = new Date();
    if (err.code !== 'NOT_APPLICABLE') trace.errorCode = err.code;
    const seconds = (performance.now() - started) / 1000;
    if (err.code === 'LEASE_LOST') {
      // Another worker holds the job now and will settle it: this run leaves status and message alone.
      log.warn('job lease lost to another worker; run stopped unsettled');
      return 'duplicate';
    }
    if (err.code === 'NOT_APPLICABLE') {
      deps.metrics.duration.observe({ kind, outcome: 'skipped' }, seconds);
      log.debug('not applicable; skipped', { reason: err.message });
      await update({ state: 'skipped', reason: err.message, code: undefined, progress: undefined, finishedAt: new Date().toISOString() });
      await job.ack();
      return 'skipped';
    }
    const postponeFor = deps.postponements.postpone(job.id, err, tries.postponed);
    if (postponeFor !== null) {
      // An outside service failed (before its breaker opened): this delivery spends no attempt.
      deps.metrics.duration.observe({ kind, outcome: 'postponed' }, seconds);
      deps.metrics.failures.inc({ kind, code: err.code, final: 'false' });
      log.warn('an outside service failed; job postponed without spending an attempt', { code: err.code, err: err.message, delayMs: postponeFor, postponed: tries.postponed + 1 });
      await update({ state: 'queued', reason: describeError(err), code: err.code, postponed: tries.postponed + 1 }).catch(() => undefined);
      await job.retry(postponeFor);
      return 'postponed';
    }
    if (err.retryable && attempt < deps.maxDeliver) {
      deps.metrics.duration.observe({ kind, outcome: 'retry' }, seconds);
      deps.metrics.failures.inc({ kind, code: err.code, final: 'false' });
      const delay = err.code === 'SHUTTING_DOWN' ? 0 : (err.retryAfterMs ?? deps.backoff(attempt));
      log.warn('job failed; will retry', { code: err.code, err: err.message, delayMs: delay });
      await update({ state: 'queued', reason: describeError(err), code: err.code });
      await job.retry(delay);
      return 'retry';
    }
    deps.metrics.duration.observe({ kind, outcome: 'failed' }, seconds);
    return fail(job, attempt, err, deps, update, log);
  } finally {
    timeout.clear();
    clearInterval(heartbeat);
    deps.shutdown.removeEventListener('abort', onShutdown);
  }
}

/** Final failure: status `failed` first, then the outcome, then the dead-letter record and term. */
async function fail(job: Job, attempt: number, err: ProcessingError, deps: ExecuteDeps, update: (p: JobStatusPatch) => Promise<ProcessingStatus>, log: Logger): Promise<ExecuteResult> {
  deps.metrics.failures.inc({ kind: job.kind, code: err.code, final: 'true' });
  deps.metrics.deadLettered.inc({ kind: job.kind });
  const reason = describeError(err);
  log.error('job failed; dead-lettered', { code: err.code, err: err.message, attempts: attempt });
  const status = await update({ state: 'failed', reason, code: err.code, attempts: attempt, finishedAt: new Date().toISOString() });
  const outcome = outcomeOf(status, job.kind);
  if (outcome) await deps.outcomes?.publish(outcome);
  await job.deadLetter({ code: err.code, reason: `${reason} (after ${attempt} attempt${attempt === 1 ? '' : 's'})` });
  return 'failed';
}

/** A timeout that can stand still while a promise is pending (overlapping pauses count once). */
function pausableTimeout(fire: () => void, ms: number): { pausedWhile<T>(work: Promise<T>): Promise<T>; clear(): void } {
  let remaining = ms;
  let since = Date.now();
  let pauses = 0;
  let timer: NodeJS.Timeout | undefined = setTimeout(fire, remaining);
  return {
    async pausedWhile(work) {
      if (pauses++ === 0 && timer) {
        clearTimeout(timer);
        remaining -= Date.now() - since;
      }
      try {
        return await work;
      } finally {
        if (--pauses === 0 && timer) {
          since = Date.now();
          timer = setTimeout(fire, Math.max(0, remaining));
        }
      }
    },
    clear() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** Rejects as soon as `signal` aborts, even if the processor ignores the signal. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The type from the first bytes, read by the runtime; undefined when the object cannot be read (the run will say why). */
async function sniffHead(location: UploadLocation, deps: ExecuteDeps): Promise<SniffedType | undefined> {
  try {
    const stream = await deps.openStream(location, deps.shutdown);
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= SNIFF_BYTES) break;
    }
    stream.destroy();
    return sniff(Buffer.concat(chunks).subarray(0, SNIFF_BYTES));
  } catch {
    return undefined;
  }
}

/** Whether the uploaded object is still there (opened and closed at once). */
async function sourceExists(location: UploadLocation, deps: ExecuteDeps, signal: AbortSignal): Promise<boolean> {
  try {
    (await deps.openStream(location, signal)).destroy();
    return true;
  } catch (err) {
    if (classifyError(err).code === 'OBJECT_NOT_FOUND') return false;
    throw err;
  }
}

/** The bounded media class of an upload for metrics: from its real type when known, else what the client declared. */
export function mediaOf(event: Job['event'], sniffed: SniffedType | undefined): MediaClass {
  return sniffed ? contentClass(event, sniffed) : (declaredClass(event)?.cls ?? 'other');
}

function sniffedOf(status: ProcessingStatus | null): SniffedType | undefined {
  const fp = status?.jobs.fingerprint;
  if (fp?.state !== 'done' || typeof fp.result?.mime !== 'string') return undefined;
  return { mime: fp.result.mime, ext: typeof fp.result.ext === 'string' ? fp.result.ext : null };
}
