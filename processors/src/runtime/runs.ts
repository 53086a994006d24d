import type { UploadCompletedEvent } from '../pipeline/event.js';
import type { Processor } from '../processors/types.js';
import type { ResultStore } from '../results/types.js';
import { archiveRun } from '../results/versions.js';
import { jobOfRun, type PreviousRun, type ProcessingStatus } from '../status/types.js';

/**
 * Whether a later run owns the event's job of `kind` now: a processing request ran the kind again
 * since (or a newer request did), so this delivery of the earlier run has no effect. An upload's new
 * event (another event id for the whole status) is not superseded: it replaces the status.
 */
export function superseded(current: ProcessingStatus | null, event: UploadCompletedEvent, kind: string): boolean {
  return !!current?.jobs[kind] && !jobOfRun(current, event.eventId, kind) && (!!event.request || current.eventId === event.eventId);
}

/**
 * Before a processing request's run of a kind: the kind's earlier results become a version
 * (results/versions.ts), so the run recomputes them and stores its own where clients read them.
 * Nothing to do for an upload's own event, or a processor that does not say which results are its.
 */
export async function keepEarlierResults(processor: Processor, event: UploadCompletedEvent, store: ResultStore, previous: PreviousRun | undefined, signal: AbortSignal): Promise<void> {
  if (!event.request || !processor.ownsResult) return;
  const owns = processor.ownsResult.bind(processor);
  await archiveRun(store, event.uploadId, processor.kind, owns, { runId: event.eventId, previous }, signal);
}
