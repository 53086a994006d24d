import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { WriteEnd, WriteOptions, WriteResult } from './types.js';

/** Smallest batch written while more data is coming: fewer, larger `pwritev` calls. */
const MIN_BATCH = 256 * 1024;
/** Pause the body once this much is waiting for the disk, so memory stays bounded per upload. */
const HIGH_WATER = 1024 * 1024;

/**
 * Copies `body` into `fh` at `position` with batched `pwritev` calls and no intermediate streams.
 * Ends on body end, client disconnect, abort signal or limit; bytes received before that are written.
 * Rejects only when the disk write fails (the result then holds what was written before).
 */
export function drainToFile(
  body: Readable,
  fh: FileHandle,
  position: number,
  { limit, signal, onChunk }: WriteOptions,
): Promise<WriteResult> {
  return new Promise((resolve, reject) => {
    let written = 0;
    let accepted = 0;
    let batch: Buffer[] = [];
    let batchBytes = 0;
    let writing = false;
    let end: WriteEnd | undefined;
    let failure: Error | undefined;

    const finish = () => {
      if (writing || (batchBytes > 0 && !failure) || !end) return;
      detach();
      if (failure) reject(Object.assign(failure, { bytesWritten: written }));
      else resolve({ bytes: written, end });
    };
    const flush = () => {
      if (writing || batchBytes === 0 || failure) return finish();
      if (batchBytes < MIN_BATCH && !end) return;
      const buffers = batch;
      const size = batchBytes;
      batch = [];
      batchBytes = 0;
      writing = true;
      writeAll(fh, buffers, size, position + written).then(
        () => {
          written += size;
          writing = false;
          if (!end && body.isPaused()) body.resume();
          flush();
        },
        (err: Error) => {
          writing = false;
          failure = err;
          stop('stopped');
        },
      );
    };
    const stop = (reason: WriteEnd) => {
      if (end) return finish();
      end = reason;
      body.pause();
      detach();
      flush();
    };
    const onData = (chunk: Buffer) => {
      if (end) return;
      if (accepted + chunk.length > limit) {
        const room = limit - accepted;
        if (room > 0) onData(chunk.subarray(0, room));
        return stop('limit');
      }
      accepted += chunk.length;
      onChunk?.(chunk);
      batch.push(chunk);
      batchBytes += chunk.length;
      flush();
      if (writing && batchBytes >= HIGH_WATER) body.pause();
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
      signal?.removeEventListener('abort', onAbort);
    };

    if (signal?.aborted) return resolve({ bytes: 0, end: 'stopped' });
    if (body.readableEnded) return resolve({ bytes: 0, end: 'complete' });
    signal?.addEventListener('abort', onAbort, { once: true });
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onGone);
    body.once('close', onGone);
    body.once('aborted', onGone);
    if (body.destroyed) onGone();
  });
}

async function writeAll(fh: FileHandle, buffers: Buffer[], size: number, position: number): Promise<void> {
  let done = 0;
  while (done < size) {
    const { bytesWritten } = await fh.writev(done === 0 ? buffers : remaining(buffers, done), position + done);
    if (bytesWritten === 0) throw new Error('pwritev wrote 0 bytes');
    done += bytesWritten;
  }
}

function remaining(buffers: Buffer[], skip: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of buffers) {
    if (skip >= b.length) skip -= b.length;
    else {
      out.push(skip > 0 ? b.subarray(skip) : b);
      skip = 0;
    }
  }
  return out;
}
