import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { UploadCompletedEvent } from '../pipeline/event.js';
import { notApplicable } from '../errors.js';
import type { Processor, ProcessorContext, ProcessorResult } from '../processors/types.js';
import type { ResultStore } from '../results/types.js';
import { TERMINAL_STATES, type JobStatus, type ProcessingStatus, type StatusStore } from '../status/types.js';
import { waitForStatus } from './wait-status.js';

export interface ReuseDeps {
  status: StatusStore;
  /** The result store of the duplicate's (and so the original's) location. */
  results: ResultStore;
  /** Runs `work` with the job timeout standing still (waiting for another upload's job is not this job's work). */
  pausedWhile<T>(work: Promise<T>): Promise<T>;
  /** How long the original's status may take to appear before the job runs on its own. */
  appearWithinMs: number;
}

/**
 * Runs a job, or — when the event names the upload whose bytes it duplicates (`reuseFrom`, set by the
 * server's dedup) — takes that upload's result instead of running ffmpeg or OpenAI again:
 * - the original's job of this kind running → waited for (heartbeats go on, the job timeout stands
 *   still); still queued → waited for at most `appearWithinMs` (this wait holds one of the kind's
 *   workers, and the original may be queued behind it), then the job runs itself;
 * - `done` → its result files are copied into the duplicate's results (those not there yet) and its
 *   inline result returned, recorded as `reusedFrom`;
 * - `skipped` → skipped the same way;
 * - `failed`, or no status for the original (it was removed, or never processed) → the job runs on the
 *   duplicate's bytes (the event's location is the shared object): a failure may have been passing.
 */
export async function runOrReuse(processor: Processor, event: UploadCompletedEvent, ctx: ProcessorContext, deps: ReuseDeps): Promise<ProcessorResult> {
  const from = event.reuseFrom;
  if (!from || from === event.uploadId) return processor.run(event, ctx);
  const original = await deps.pausedWhile(waitForOriginal(deps.status, from, processor.kind, ctx, deps.appearWithinMs));
  if (!original || original.state === 'failed') {
    ctx.logger.info('nothing to reuse from the original upload; running', { reuseFrom: from, state: original?.state ?? 'none' });
    return processor.run(event, ctx);
  }
  if (original.state === 'skipped') throw notApplicable(original.reason ?? 'skipped for the original upload');
  await copyResults(deps.results, from, event.uploadId, ctx);
  return {
    result: original.result,
    outputLocation: original.outputLocation ? ctx.results.location() : null,
    outputSizeBytes: original.outputSizeBytes ?? 0,
    reusedFrom: from,
  };
}

/**
 * The original upload's terminal status of `kind`, or null when it has none: no status appeared within
 * `appearWithinMs`, it stayed queued that long, or it disappeared (the original was removed). Follows the status by subscription,
 * re-reading every few seconds (a lost notification must not leave the job waiting); heartbeats the job.
 */
async function waitForOriginal(status: StatusStore, uploadId: string, kind: string, ctx: ProcessorContext, appearWithinMs: number): Promise<JobStatus | null> {
  let giveUpAt = Date.now() + appearWithinMs;
  let seen = false;
  const settled = (latest: ProcessingStatus | null): JobStatus | null | undefined => {
    const job = latest?.jobs[kind];
    if (job && TERMINAL_STATES.has(job.state)) return job;
    if (job) seen = true;
    else if (seen || Date.now() >= giveUpAt) return null;
    // Waiting holds one of this kind's workers: an original still queued behind it (VIDEO_CONCURRENCY=1)
    // would never start. Only a running original is waited for without bound.
    if (job?.state === 'processing') giveUpAt = Number.POSITIVE_INFINITY;
    else if (job && giveUpAt === Number.POSITIVE_INFINITY) giveUpAt = Date.now() + appearWithinMs;
    else if (job && Date.now() >= giveUpAt) return null;
    return undefined;
  };
  return waitForStatus(status, uploadId, settled, {
    signal: ctx.signal,
    recheckMs: () => Math.min(2000, Math.max(50, giveUpAt - Date.now())),
    onRound: () => ctx.working(),
  });
}

/** Copies the original's result files the duplicate does not have yet (through a temporary file: results may be large). */
async function copyResults(store: ResultStore, from: string, to: string, ctx: ProcessorContext): Promise<void> {
  const have = new Map((await store.list(to)).map((f) => [f.name, f.size]));
  for (const file of await store.list(from)) {
    if (have.get(file.name) === file.size) continue;
    const got = await store.get(from, file.name, undefined, ctx.signal);
    if (!got) continue; // removed meanwhile
    const tmp = path.join(os.tmpdir(), `reuse-${randomUUID()}`);
    try {
      await pipeline(got.stream, fs.createWriteStream(tmp), { signal: ctx.signal });
      await ctx.results.put(file.name, { file: tmp });
    } finally {
      await fsp.rm(tmp, { force: true });
    }
    ctx.working();
  }
}
