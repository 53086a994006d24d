import type { QueueAdmin, RequeueOutcome } from '../pipeline/queue-admin.js';
import { runOf, type StatusStore } from '../status/types.js';

/** What {@link retryDeadLetter} did; `stale` when the upload was processed again since (a newer event). */
export type RetryOutcome = RequeueOutcome | 'stale';

/**
 * The operator's retry: reopens the job's `failed` status as `queued` (else the runtime's guard would
 * settle the redelivery as already failed), then puts the job back with {@link QueueAdmin.requeue}.
 * Idempotent: a dead letter already retried changes nothing. Refused (`stale`) when the upload's status
 * belongs to a newer event than the dead letter's.
 */
export async function retryDeadLetter(admin: QueueAdmin, status: StatusStore, id: string, now = () => new Date()): Promise<RetryOutcome> {
  const dead = await admin.deadLetter(id);
  if (!dead) return 'not-found';
  if (dead.retriedAt) return 'already-retried';
  if (!dead.event || dead.kind === 'dispatch') return 'not-retryable';
  const { event } = dead;
  const current = await status.get(event.uploadId);
  // The run that now owns the kind (a processing request may have taken it over, see applyClaim) must be the dead letter's.
  const owner = current && (current.jobs[dead.kind] ? runOf(current, dead.kind) : event.request ? event.eventId : current.eventId);
  if (current && owner !== event.eventId) return 'stale';
  await status.update({
    uploadId: event.uploadId,
    eventId: event.eventId,
    kind: dead.kind,
    reopen: true,
    ...(event.request && { request: true }),
    patch: {
      state: 'queued', lane: dead.lane, attempts: 0, postponed: undefined, reason: undefined, code: undefined,
      progress: undefined, queuedAt: now().toISOString(), startedAt: undefined, finishedAt: undefined,
    },
  });
  return admin.requeue(id);
}
