import { PassThrough, type Readable } from 'node:stream';
import type { WriteEnd, WriteOptions, WriteResult } from './types.js';

export interface Feed {
  /** What the store reads: the accepted bytes of the body; it always ends normally. */
  stream: Readable;
  /** How the body ended and how many bytes were passed on to `stream`. */
  ended: Promise<WriteResult>;
}

/**
 * Turns a request body into a stream a store can consume whole: chunks up to `limit` pass through
 * (seen by `onChunk`), with backpressure; a client disconnect, the abort signal or the limit end the
 * stream *normally*, so a store that persists what it reads (e.g. @tus/s3-store's part splitter)
 * keeps the bytes received so far instead of discarding them as it does on a stream error.
 */
export function feedFrom(body: Readable, { limit, signal, onChunk }: WriteOptions): Feed {
  const stream = new PassThrough({ highWaterMark: 1024 * 1024 });
  let passed = 0;
  let end: WriteEnd | undefined;
  let settle!: (r: WriteResult) => void;
  const ended = new Promise<WriteResult>((resolve) => (settle = resolve));

  const stop = (reason: WriteEnd) => {
    if (end) return;
    end = reason;
    detach();
    body.pause();
    stream.end();
    settle({ bytes: passed, end: reason });
  };
  const onData = (chunk: Buffer) => {
    if (end) return;
    if (passed + chunk.length > limit) {
      const room = limit - passed;
      if (room > 0) onData(chunk.subarray(0, room));
      return stop('limit');
    }
    passed += chunk.length;
    onChunk?.(chunk);
    if (!stream.write(chunk)) body.pause();
  };
  const onDrain = () => {
    if (!end) body.resume();
  };
  const onEnd = () => stop('complete');
  const onGone = () => stop(body.readableEnded ? 'complete' : 'client-aborted');
  const onAbort = () => stop('stopped');
  const detach = () => {
    body.off('data', onData);
    body.off('end', onEnd);
    body.off('error', onGone);
    body.off('close', onGone);
    body.off('aborted', onGone);
    stream.off('drain', onDrain);
    signal?.removeEventListener('abort', onAbort);
  };

  if (signal?.aborted) stop('stopped');
  else if (body.readableEnded) stop('complete');
  else {
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('drain', onDrain);
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onGone);
    body.once('close', onGone);
    body.once('aborted', onGone);
    if (body.destroyed) onGone();
  }
  return { stream, ended };
}
