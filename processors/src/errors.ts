import { CircuitOpenError } from './common/breaker.js';
import { redisUnavailable } from './common/redis-guard.js';

/**
 * The error catalogue of the processor runtime. Each entry says whether a job that failed with it is
 * retried (`nak` with backoff, up to `PROCESSOR_MAX_DELIVER` attempts) or failed at once (`term` and a
 * dead-letter record). Errors that are not {@link ProcessingError}s are classified by
 * {@link classifyError}: unknown errors are retryable, so a bug ends in the dead-letter queue after
 * `max_deliver` attempts rather than being dropped. Entries with `outside: true` are a transient failure
 * of an outside service (OpenAI, S3, Redis): such a job is postponed with a delay and the delivery is not
 * counted as an attempt, up to `PROCESSOR_MAX_POSTPONES` times (see `runtime/postpone.ts`).
 */
export const ERRORS = {
  INVALID_EVENT: { retryable: false, message: 'the event is not a valid UploadCompletedEvent v1' },
  OBJECT_NOT_FOUND: { retryable: false, message: 'the stored object does not exist' },
  UNSUPPORTED_LOCATION: { retryable: false, message: 'no reader is configured for this storage location' },
  SIZE_MISMATCH: { retryable: true, message: 'the stored object is shorter or longer than the upload' },
  STORAGE_UNAVAILABLE: { retryable: true, outside: true, message: 'the storage could not be read' },
  TIMEOUT: { retryable: true, message: 'the attempt took longer than PROCESSOR_JOB_TIMEOUT' },
  SHUTTING_DOWN: { retryable: true, message: 'the worker stopped before the job finished' },
  LEASE_LOST: { retryable: true, message: "this worker's lease on the job ran out and another worker took the job over" },
  MAX_DELIVERIES: { retryable: false, message: 'every delivery ended without an outcome (worker lost or timed out)' },
  PERMANENT: { retryable: false, message: 'the job cannot succeed' },
  NOT_APPLICABLE: { retryable: false, message: 'the processor does not apply to this upload (recorded as skipped)' },
  CORRUPT_FILE: { retryable: false, message: 'the file is corrupt or truncated' },
  MISLABELLED: { retryable: false, message: 'the declared type does not match the content' },
  TOO_LARGE: { retryable: false, message: 'the file is larger than this processor allows' },
  OPENAI_UNAVAILABLE: { retryable: true, outside: true, message: 'the OpenAI API did not answer successfully (429, 5xx or network)' },
  CIRCUIT_OPEN: { retryable: true, outside: true, message: 'a service the job needs is failing (its circuit breaker is open); the job waits and is tried again' },
  OPENAI_REJECTED: { retryable: false, message: 'the OpenAI API refused the request (4xx)' },
  INVALID_GENERATED_CONTENT: { retryable: false, message: 'the generated content did not match its JSON schema' },
  RESULTS_UNAVAILABLE: { retryable: true, outside: true, message: 'the result store could not be read or written' },
  REDIS_UNAVAILABLE: { retryable: true, outside: true, message: 'Redis (status, leases) did not answer in time or its circuit breaker is open' },
  INTERNAL: { retryable: true, message: 'unexpected error' },
} as const satisfies Record<string, { retryable: boolean; outside?: true; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** An error with a catalogue code; `retryable` comes from the catalogue. */
export class ProcessingError extends Error {
  override name = 'ProcessingError';
  readonly retryable: boolean;
  /** A transient failure of an outside service: postponed without spending an attempt (see the catalogue). */
  readonly outside: boolean;

  constructor(
    readonly code: ErrorCode,
    message: string = ERRORS[code].message,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options);
    this.retryable = ERRORS[code].retryable;
    this.outside = 'outside' in ERRORS[code];
    this.retryAfterMs = options?.retryAfterMs;
  }

  /** When to try again, if the error knows better than the backoff (an open circuit breaker). */
  readonly retryAfterMs?: number;
}

/** Shorthand for a processor: fail this job now, without retries (bullmq's "unrecoverable" idea). */
export function permanentError(message: string, cause?: unknown): ProcessingError {
  return new ProcessingError('PERMANENT', message, { cause });
}

const TRANSIENT_ERRNO = new Set(['EAGAIN', 'EBUSY', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EMFILE', 'ENFILE', 'EIO']);

/** Maps anything thrown by a processor to a {@link ProcessingError}. */
export function classifyError(err: unknown): ProcessingError {
  if (err instanceof ProcessingError) return err;
  if (err instanceof CircuitOpenError) return new ProcessingError('CIRCUIT_OPEN', err.message, { cause: err, retryAfterMs: err.retryAfterMs });
  const redis = redisUnavailable(err);
  if (redis) return new ProcessingError('REDIS_UNAVAILABLE', redis.message, { cause: err, retryAfterMs: redis.retryAfterMs });
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  const name = (err as Error | undefined)?.name;
  const message = err instanceof Error ? err.message : String(err);
  // ENOENT from the file system; NoSuchKey / NotFound from the AWS SDK (error name).
  if (errno === 'ENOENT' || name === 'NoSuchKey' || name === 'NotFound') {
    return new ProcessingError('OBJECT_NOT_FOUND', message, { cause: err });
  }
  if (errno && TRANSIENT_ERRNO.has(errno)) return new ProcessingError('STORAGE_UNAVAILABLE', message, { cause: err });
  return new ProcessingError('INTERNAL', message, { cause: err });
}

/**
 * Shorthand for a processor: this upload is not for me after all (found out during the run, e.g. no
 * text to work on, no API key). The runtime records the job `skipped` with `reason`, not `failed`.
 */
export function notApplicable(reason: string): ProcessingError {
  return new ProcessingError('NOT_APPLICABLE', reason);
}

/** `CODE: message`, the form stored in the status and in dead-letter records. */
export function describeError(err: ProcessingError): string {
  return `${err.code}: ${err.message}`;
}
