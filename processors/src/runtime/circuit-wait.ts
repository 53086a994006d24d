import { classifyError, describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { JobStatusPatch, ProcessingStatus } from '../status/types.js';

/**
 * Runs the processor; when it stops because a service's circuit breaker is open, waits (heartbeats go
 * on, the job timeout stands still) until the breaker lets a call through, and runs it again, within
 * the same delivery: an outage spends neither deliveries nor the dead-letter queue.
 */
export async function runWaitingForCircuits<T>(
  runOnce: () => Promise<T>,
  signal: AbortSignal,
  timeout: { pausedWhile<R>(work: Promise<R>): Promise<R> },
  log: Logger,
  update: (p: JobStatusPatch) => Promise<ProcessingStatus>,
): Promise<T> {
  for (;;) {
    try {
      return await runOnce();
    } catch (thrown) {
      const err = classifyError(thrown);
      if (signal.aborted || err.code !== 'CIRCUIT_OPEN') throw thrown;
      const wait = Math.max(50, err.retryAfterMs ?? 1000);
      log.warn('a service this job needs is failing; waiting for its circuit breaker', { err: err.message, waitMs: wait });
      void update({ reason: describeError(err), code: err.code }).catch(() => undefined);
      await timeout.pausedWhile(pause(wait, signal));
    }
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

