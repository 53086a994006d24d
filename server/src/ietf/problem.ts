/**
 * The draft's problem types (RFC 9457), as `application/problem+json`. Other errors keep the house
 * JSON body of the catalogue (see `errorResponse`); every error of a draft request loses the tus
 * `Tus-Resumable` header, which means nothing to a draft client.
 */
import { type ErrorCode, TusError } from '../errors.js';
import { errorResponse } from '../http/respond.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { Interop } from './versions.js';

const PROBLEM_BASE = 'https://iana.org/assignments/http-problem-types#';

/** The catalogue codes that have a problem type, with its name and title (IANA considerations). */
const PROBLEM_TYPES: Partial<Record<ErrorCode, { type: string; title: string }>> = {
  OFFSET_MISMATCH: { type: 'mismatching-upload-offset', title: 'offset from request does not match offset of resource' },
  UPLOAD_COMPLETED: { type: 'completed-upload', title: 'upload is already completed' },
  INCONSISTENT_LENGTH: { type: 'inconsistent-upload-length', title: 'inconsistent length values for upload' },
};

/** A catalogue error with the extension members of its problem type (e.g. `expected-offset`). */
export class ProblemError extends TusError {
  constructor(
    code: ErrorCode,
    detail: string | undefined,
    headers: Record<string, string>,
    readonly members: Record<string, number> = {},
  ) {
    super(code, detail, headers);
  }
}

/** Whether `interop` knows the problem type of `code`. */
function hasProblemType(code: ErrorCode, interop: Interop | undefined): boolean {
  if (!interop?.problems) return false;
  return code === 'INCONSISTENT_LENGTH' ? interop.inconsistentLengthProblem : PROBLEM_TYPES[code] !== undefined;
}

/**
 * The response for an error of a draft request: a problem document where the client's interop
 * version defines the problem type, the catalogue's JSON otherwise; `extra` headers on both.
 */
export function draftErrorResponse(
  err: unknown, interop: Interop | undefined, metrics: Metrics, logger: Logger, extra: Record<string, string> = {},
): Response {
  if (err instanceof TusError && hasProblemType(err.code, interop)) {
    metrics.errors.inc({ code: err.code });
    const problem = PROBLEM_TYPES[err.code]!;
    const members = err instanceof ProblemError ? err.members : {};
    const body = JSON.stringify({ type: `${PROBLEM_BASE}${problem.type}`, title: problem.title, detail: err.message, ...members });
    return new Response(body, { status: err.status, headers: { 'Content-Type': 'application/problem+json', ...extra, ...err.headers } });
  }
  const res = errorResponse(err, metrics, logger, extra);
  res.headers.delete('Tus-Resumable');
  return res;
}
