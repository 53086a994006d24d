import http from 'node:http';
import https from 'node:https';
import { checkTarget, pinnedLookup, TargetRefused, type Resolve } from './targets.js';

/** What one attempt got: the answer's status, or why there was none; and how long it took. */
export interface AttemptOutcome {
  status: number | null;
  error: string | null;
  durationMs: number;
}

export interface SendOptions {
  /** Connection to the end of the answer; the attempt is abandoned after it. */
  timeoutMs: number;
  allowPrivate: boolean;
  resolve?: Resolve;
}

/** Bytes of an answer read (and dropped) before the connection is closed. */
const ANSWER_READ_MAX = 64 * 1024;

/**
 * POSTs `body` to `url` once. The host is resolved and checked (see targets.ts) right before, and the
 * connection goes to a checked address; no redirect is followed; no connection is reused.
 */
export async function sendOnce(url: string, headers: Record<string, string>, body: string, options: SendOptions): Promise<AttemptOutcome> {
  const started = performance.now();
  const took = () => performance.now() - started;
  let addresses;
  try {
    addresses = await checkTarget(url, options.allowPrivate, options.resolve);
  } catch (err) {
    return { status: null, error: err instanceof TargetRefused ? `refused: ${err.message}` : (err as Error).message, durationMs: took() };
  }
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise<AttemptOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: Omit<AttemptOutcome, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...outcome, durationMs: took() });
    };
    const req = client.request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)), 'User-Agent': 'tus-edge-webhooks/1' },
        lookup: pinnedLookup(addresses) as never,
        agent: false,
      },
      (res) => {
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > ANSWER_READ_MAX) res.destroy();
        });
        const status = res.statusCode ?? 0;
        res.on('end', () => finish({ status, error: null }));
        res.on('close', () => finish({ status, error: null }));
        res.on('error', () => finish({ status, error: null }));
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    req.on('error', (err) => finish({ status: null, error: err.message || (err as NodeJS.ErrnoException).code || 'request failed' }));
    req.end(body);
  });
}
