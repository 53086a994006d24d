import type { UploadCompletedEvent } from '../pipeline/event.js';
import type { Lane } from '../pipeline/job-source.js';

/**
 * How a job's lane is chosen: upload metadata `priority` = `high` or `normal` wins, unless
 * `fromMetadata` is off (`PROCESSOR_PRIORITY_METADATA=false`: metadata is the client's to set, and a
 * public endpoint may not want clients to jump the queue); otherwise an upload of at most
 * `highPriorityMaxBytes` (`PROCESSOR_HIGH_PRIORITY_MAX_BYTES`, default 16 MiB) goes to `high`, so small
 * files (avatars, documents) are not queued behind large videos. `highPriorityMaxBytes = 0` leaves
 * only the metadata.
 */
export function chooseLane(event: UploadCompletedEvent, highPriorityMaxBytes: number, fromMetadata = true): Lane {
  const requested = fromMetadata ? event.metadata.priority?.trim().toLowerCase() : undefined;
  if (requested === 'high' || requested === 'normal') return requested;
  return highPriorityMaxBytes > 0 && event.size <= highPriorityMaxBytes ? 'high' : 'normal';
}

/** Exponential backoff with ±20 % jitter: min(max, base × 2^(attempt−1)). `attempt` starts at 1. */
export function backoffDelay(attempt: number, policy: { baseMs: number; maxMs: number }, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  const jitter = 1 + (random() * 0.4 - 0.2);
  return Math.max(0, Math.round(Math.min(policy.maxMs, exp * jitter)));
}
