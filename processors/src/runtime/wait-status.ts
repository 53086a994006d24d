import { jobOfRun, TERMINAL_STATES, type JobStatus, type ProcessingStatus, type StatusStore } from '../status/types.js';

export interface WaitOptions {
  /** Aborting rejects the wait with the signal's reason. */
  signal: AbortSignal;
  /** Longest sleep between two reads when no notification comes (a lost one must not leave the wait stuck); may change each round. */
  recheckMs: () => number;
  /** Called before each sleep (a heartbeat). */
  onRound?: () => void;
  /** When a re-read finds no status: keep judging the last one seen (true) or judge `null` (default). */
  keepLastWhenMissing?: boolean;
}

/**
 * Follows an upload's status until `settled` returns something other than `undefined`, and resolves
 * with it. Driven by status notifications (subscribe first, then read: nothing is missed), with a
 * re-read every `recheckMs()` as a fallback. Used by `ctx.waitFor` (a job waiting for other jobs of its
 * event) and by results reuse (a duplicate waiting for the original upload's job).
 */
export async function waitForStatus<T>(status: StatusStore, uploadId: string, settled: (s: ProcessingStatus | null) => T | undefined, options: WaitOptions): Promise<T> {
  const { signal } = options;
  signal.throwIfAborted();
  let wake: () => void = () => undefined;
  let latest: ProcessingStatus | null = null;
  const unsubscribe = await status.subscribe(uploadId, (s) => {
    latest = s;
    wake();
  });
  const onAbort = () => wake();
  signal.addEventListener('abort', onAbort);
  try {
    latest = await status.get(uploadId);
    for (;;) {
      signal.throwIfAborted();
      const done = settled(latest);
      if (done !== undefined) return done;
      options.onRound?.();
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, options.recheckMs()).unref();
      });
      if (!signal.aborted) {
        const read = await status.get(uploadId);
        latest = read ?? (options.keepLastWhenMissing ? latest : null);
      }
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    await unsubscribe();
  }
}

/**
 * Resolves when every kind is terminal for this event (see `ProcessorContext.waitFor`). For a
 * processing request's run, the kinds it re-runs (`requestKinds`) must be terminal in that run; the
 * others are taken as the upload has them (terminal in whatever run last had them).
 */
export function waitForJobs(
  status: StatusStore, uploadId: string, eventId: string, kinds: readonly string[], signal: AbortSignal, requestKinds?: readonly string[],
): Promise<Record<string, JobStatus>> {
  const settled = (s: ProcessingStatus | null) => {
    if (!s) return undefined;
    if (!requestKinds && s.eventId !== eventId) return undefined;
    const jobs = kinds.map((k) => (requestKinds?.includes(k) ? jobOfRun(s, eventId, k) : s.jobs[k]));
    return jobs.every((j) => j && TERMINAL_STATES.has(j.state)) ? Object.fromEntries(kinds.map((k, i) => [k, jobs[i]!])) : undefined;
  };
  return waitForStatus(status, uploadId, settled, { signal, recheckMs: () => 5000, keepLastWhenMissing: true });
}
