import { Readable } from 'node:stream';
import { sniff } from '@tus-edge/processors';
import { typeAllowed } from '../config/security.js';

/** Bytes looked at to judge a type (zip-based documents name their parts within the first entries). */
export const HEAD_BYTES = 64 * 1024;

/**
 * Reads up to `n` bytes from the start of `body` without consuming them: they are pushed back
 * (`unshift`), so the returned `body` still yields every byte. A body that ends sooner is replaced by
 * one over what was read. `signal` aborts the wait (the caller's stop or the client leaving).
 */
export function peekHead(body: Readable, n: number, signal?: AbortSignal): Promise<{ head: Buffer; body: Readable }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const finish = (ended: boolean) => {
      detach();
      const head = Buffer.concat(chunks);
      if (ended) return resolve({ head, body: Readable.from(head.length > 0 ? [head] : []) });
      if (head.length > 0) body.unshift(head);
      resolve({ head: head.subarray(0, n), body });
    };
    const onReadable = () => {
      let chunk: Buffer | null;
      while (got < n && (chunk = body.read() as Buffer | null) !== null) {
        chunks.push(chunk);
        got += chunk.length;
      }
      if (got >= n) finish(false);
    };
    const onEnd = () => finish(true);
    const onError = (err: Error) => {
      detach();
      reject(err);
    };
    const onAbort = () => {
      detach();
      if (chunks.length > 0) body.unshift(Buffer.concat(chunks));
      reject(signal?.reason ?? new Error('aborted'));
    };
    const detach = () => {
      body.off('readable', onReadable);
      body.off('end', onEnd);
      body.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
    };
    if (n <= 0) return resolve({ head: Buffer.alloc(0), body });
    body.on('readable', onReadable);
    body.once('end', onEnd);
    body.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The sniffed media type of `head` (magic bytes, never the client's `filetype`), and whether every
 * non-empty list of `lists` (ALLOWED_TYPES, an upload token's types) allows it.
 */
export function judgeHead(head: Buffer, lists: ReadonlyArray<readonly string[] | undefined>): { mime: string; ok: boolean } {
  const { mime } = sniff(head);
  return { mime, ok: lists.every((l) => !l?.length || typeAllowed(mime, l)) };
}

