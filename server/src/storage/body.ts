import type { Readable } from 'node:stream';
import { HeldBody } from './held-body.js';
import { listen } from './listen.js';
import type { WriteEnd, WriteOptions } from './types.js';

export interface BodySink {
  /** A chunk within the limit, already shown to `onChunk`. The sink pauses and resumes `body` itself. */
  data(chunk: Buffer): void;
  /** The body is over for `reason`; called once, and no `data` follows. */
  end(reason: WriteEnd): void;
}

/**
 * Reads a request body into `sink` up to `limit` bytes. It ends on the body's end (`complete`), a
 * client disconnect (`client-aborted`), the abort signal (`stopped`), or one byte past the limit
 * (`limit`, after the bytes up to the limit). Returns `stop`, for a sink that must give up itself.
 */
export function readBody(body: Readable, { limit, signal, onChunk }: WriteOptions, sink: BodySink): (reason: WriteEnd) => void {
  let accepted = 0;
  let ended = false;
  /** Removes what the reader attached; nothing is attached when it stops before reading. */
  let detach = () => {};
  const stop = (reason: WriteEnd) => {
    if (ended) return;
    ended = true;
    detach();
    body.pause();
    sink.end(reason);
  };
  const onData = (chunk: Buffer) => {
    if (ended) return;
    if (accepted + chunk.length > limit) {
      const room = limit - accepted;
      if (room > 0) onData(chunk.subarray(0, room));
      return stop('limit');
    }
    accepted += chunk.length;
    onChunk?.(chunk);
    sink.data(chunk);
  };
  const onEnd = () => stop(body instanceof HeldBody && body.clientGone ? 'client-aborted' : 'complete');
  const onGone = () => stop(body.readableEnded ? 'complete' : 'client-aborted');
  // Stopped (lock handed over, shutdown): keep what already arrived and waits in the body's buffer,
  // even if the write had not started reading yet ("store as much of the received data as possible").
  const onAbort = () => {
    for (let chunk: Buffer | null; !ended && (chunk = body.read() as Buffer | null) !== null; ) onData(chunk);
    stop('stopped');
  };

  if (signal?.aborted) onAbort();
  else if (body.readableEnded) stop('complete');
  else {
    signal?.addEventListener('abort', onAbort, { once: true });
    const detachBody = listen(body, { data: onData }, { end: onEnd, error: onGone, close: onGone, aborted: onGone });
    detach = () => {
      detachBody();
      signal?.removeEventListener('abort', onAbort);
    };
    if (body.destroyed) onGone();
  }
  return stop;
}
