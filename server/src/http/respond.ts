import { ERRORS, TusError, tusError } from '../errors.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { redisUnavailable } from '@tus-edge/processors';
import { StorageUnavailableError } from '../storage/types.js';

/**
 * Headers every response of this server carries. tus clients read `Tus-Resumable` on any answer,
 * errors of the upload API included.
 */
export const BASE_HEADERS: Readonly<Record<string, string>> = { 'Tus-Resumable': '1.0.0' };

/** A response with the {@link BASE_HEADERS}; an empty body is given `Content-Length: 0`. */
export function baseResponse(status: number, headers: Record<string, string> = {}, body: string | null = null): Response {
  const all: Record<string, string> = { ...BASE_HEADERS, ...headers };
  if (body === null && status !== 204 && status !== 304) all['Content-Length'] = '0';
  return new Response(body, { status, headers: all });
}

/**
 * Maps any thrown value to a JSON error response (`{"error":{"code","message"}}`, the catalogue's
 * status and headers); a storage or Redis that is busy becomes 503 with Retry-After, unknown errors become 500
 * and are logged. The one place where errors turn into responses, for tus, the API and the adapter.
 */
export function errorResponse(err: unknown, metrics: Metrics, logger: Logger, extra: Record<string, string> = {}): Response {
  if (err instanceof StorageUnavailableError) logger.warn('storage unavailable', { err: err.message });
  const redis = err instanceof TusError ? undefined : redisUnavailable(err);
  if (redis) logger.warn('redis unavailable', { err: redis.message });
  const known = err instanceof StorageUnavailableError
    ? tusError('STORAGE_UNAVAILABLE', err.message, { 'Retry-After': String(Math.max(1, err.retryAfterSeconds)) })
    : redis
      ? tusError('COORDINATION_UNAVAILABLE', undefined, { 'Retry-After': String(Math.max(1, Math.ceil(redis.retryAfterMs / 1000))) })
      : err instanceof TusError ? err : undefined;
  if (!known) logger.error('unhandled error', { err });
  const code = known?.code ?? 'INTERNAL';
  const status = known?.status ?? ERRORS.INTERNAL.status;
  metrics.errors.inc({ code });
  const body = JSON.stringify({ error: { code, message: known?.message ?? ERRORS.INTERNAL.message } });
  return baseResponse(status, { 'Content-Type': 'application/json', ...extra, ...(known?.headers ?? {}) }, body);
}
