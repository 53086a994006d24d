import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { readBody } from './body.js';
import { SlabPool } from './slabs.js';
import type { WriteEnd, WriteOptions, WriteResult } from './types.js';
import { youngGcEvery } from './young-gc.js';

/** Smallest batch written while more data is coming: fewer, larger `pwritev` calls (one slab). */
const MIN_BATCH = 128 * 1024;
/**
 * Pause the body once this much is waiting for the disk. While the process as a whole holds less than
 * {@link SHARED_WATER} of waiting bytes, an upload may hold up to {@link HIGH_WATER}: when a `pwritev`
 * is slow (a busy thread pool or disk) the next one takes everything that arrived meanwhile, instead of
 * stopping the socket at a few hundred KiB. Past it, each upload keeps to {@link LOW_WATER}, so memory
 * stays bounded with a thousand uploads.
 */
const HIGH_WATER = 8 * 1024 * 1024;
const LOW_WATER = 256 * 1024;
const SHARED_WATER = 64 * 1024 * 1024;
/** Bytes received by every upload of the process and not yet handed to a finished `pwritev`. */
let waitingTotal = 0;
/** Up to 32 MiB of idle slabs are kept between writes. */
const slabs = new SlabPool(MIN_BATCH, 256);
/** Frees the dead socket buffers (see young-gc.ts). */
const received = youngGcEvery(8 * 1024 * 1024);

/**
 * Copies `body` into `fh` at `position` with batched `pwritev` calls and no intermediate streams; the
 * body's chunks are copied into pooled slabs as they arrive (slabs.ts, young-gc.ts say why).
 * Ends as {@link readBody} says (body end, client gone, signal, limit); bytes received before are written.
 * Rejects only when the disk write fails (the result then holds what was written before).
 * `progress` hears the bytes written so far after each `pwritev`; the first `pwritev` waits for `gate`
 * (the body is read meanwhile, so a client that goes away still has what it sent kept).
 */
export function drainToFile(
  body: Readable, fh: FileHandle, position: number, options: WriteOptions, progress?: (written: number) => void,
  gate?: Promise<void>,
): Promise<WriteResult> {
  gate?.catch(() => undefined); // a body with nothing to write never waits for it
  return new Promise((resolve, reject) => {
    let written = 0;
    let batch: Buffer[] = [];
    let batchBytes = 0;
    /** The slab being filled, and how much of it is. */
    let slab: Buffer | undefined;
    let used = 0;
    let writing = false;
    let end: WriteEnd | undefined;
    let failure: Error | undefined;

    /** Bytes of this body counted in `waitingTotal`. */
    let waiting = 0;
    const release = (n: number) => {
      waiting -= n;
      waitingTotal -= n;
    };
    const finish = () => {
      if (writing || (batchBytes > 0 && !failure) || !end) return;
      release(waiting); // a failed write leaves its batch unwritten
      if (failure) reject(Object.assign(failure, { bytesWritten: written }));
      else resolve({ bytes: written, end });
    };
    const flush = () => {
      if (end && slab && used > 0 && !writing) {
        // The last, partly filled slab goes with the final batch.
        batch.push(slab.subarray(0, used));
        batchBytes += used;
        slab = undefined;
        used = 0;
      }
      if (writing || batchBytes === 0 || failure) return finish();
      if (batchBytes < MIN_BATCH && !end) return;
      const buffers = batch;
      const size = batchBytes;
      batch = [];
      batchBytes = 0;
      writing = true;
      const first = gate;
      gate = undefined;
      (first ? first.then(() => writeAll(fh, buffers, size, position + written)) : writeAll(fh, buffers, size, position + written)).then(
        () => {
          for (const b of buffers) slabs.give(b);
          release(size);
          written += size;
          writing = false;
          progress?.(written);
          if (!end && body.isPaused()) body.resume();
          flush();
        },
        (err: Error) => {
          writing = false;
          failure = err;
          stop('stopped');
          finish();
        },
      );
    };
    const stop = readBody(body, options, {
      data: (chunk) => {
        received(chunk.length);
        waiting += chunk.length;
        waitingTotal += chunk.length;
        for (let at = 0; at < chunk.length; ) {
          slab ??= slabs.take();
          const n = chunk.copy(slab, used, at);
          at += n;
          used += n;
          if (used === slab.length) {
            batch.push(slab);
            batchBytes += used;
            slab = undefined;
            used = 0;
          }
        }
        flush();
        const queued = batchBytes + used;
        if (writing && (queued >= HIGH_WATER || (queued >= LOW_WATER && waitingTotal >= SHARED_WATER))) body.pause();
      },
      end: (reason) => {
        end = reason;
        flush();
      },
    });
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
