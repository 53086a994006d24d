import { PassThrough, type Readable } from 'node:stream';
import { readBody } from './body.js';
import type { WriteOptions, WriteResult } from './types.js';

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
export function feedFrom(body: Readable, options: WriteOptions): Feed {
  const stream = new PassThrough({ highWaterMark: 1024 * 1024 });
  let passed = 0;
  let settle!: (r: WriteResult) => void;
  const ended = new Promise<WriteResult>((resolve) => (settle = resolve));
  const onDrain = () => body.resume();
  stream.on('drain', onDrain);
  readBody(body, options, {
    data: (chunk) => {
      passed += chunk.length;
      if (!stream.write(chunk)) body.pause();
    },
    end: (reason) => {
      stream.off('drain', onDrain);
      stream.end();
      settle({ bytes: passed, end: reason });
    },
  });
  return { stream, ended };
}
