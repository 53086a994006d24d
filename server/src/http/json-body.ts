import type { Context } from 'hono';
import { tusError } from '../errors.js';

/** The largest JSON body an API route reads (tus bodies are not limited by this). */
export const MAX_API_BODY_BYTES = 64 * 1024;

/**
 * Reads a small JSON object body: at most {@link MAX_API_BODY_BYTES}, within `timeoutMs`
 * (REQUEST_TIMEOUT, so a slow body cannot hold a connection), an empty body being `{}`.
 */
export async function readJsonObject(c: Context, timeoutMs: number): Promise<Record<string, unknown>> {
  const body = c.req.raw.body;
  if (!body) return {};
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const timer = setTimeout(() => void reader.cancel(new Error('timeout')).catch(() => undefined), timeoutMs);
  let timedOut = false;
  timer.unref();
  try {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ((timedOut = true), { done: true, value: undefined }));
      if (done) break;
      size += value.byteLength;
      if (size > MAX_API_BODY_BYTES) throw tusError('REQUEST_TOO_LARGE', `at most ${MAX_API_BODY_BYTES} bytes`, { Connection: 'close' });
      chunks.push(value);
    }
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) throw tusError('REQUEST_TIMEOUT', undefined, { Connection: 'close' });
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw tusError('INVALID_REQUEST_BODY', 'not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw tusError('INVALID_REQUEST_BODY', 'expected a JSON object');
  return parsed as Record<string, unknown>;
}
