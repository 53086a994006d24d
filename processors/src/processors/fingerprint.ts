import { createHash } from 'node:crypto';
import type { UploadCompletedEvent } from '../pipeline/event.js';
import { ProcessingError } from '../errors.js';
import { SNIFF_BYTES, sniff } from './sniff.js';
import type { Processor, ProcessorContext, ProcessorResult } from './types.js';

/** Progress is reported (and the lease extended) every this many bytes. */
const PROGRESS_EVERY = 8 * 1024 * 1024;

/** The inline result of a fingerprint job, as stored in the status. */
export interface FingerprintResult {
  sha256: string;
  /** Bytes read (equal to the upload size). */
  size: number;
  /** Real type from magic bytes. */
  mime: string;
  ext: string | null;
  /** Type the client declared in metadata (`filetype` or `contentType`), or null. */
  declaredType: string | null;
  /** Whether the declared type agrees with the sniffed one; null when none was declared. */
  declaredTypeMatches: boolean | null;
  /** `server`: the sha256 came with the event (hashed while receiving), only the head was read; `read`: hashed here. */
  sha256Source: 'server' | 'read';
}

/**
 * Streams the stored object once, computing its sha256 and sniffing its real type from the first
 * bytes. Accepts every upload. Memory use is one chunk plus the 64 KiB head. When the event carries the
 * sha256 (the server followed it while receiving), only the head is read: the bytes are hashed once.
 */
export class FingerprintProcessor implements Processor {
  readonly kind = 'fingerprint';

  accepts(): boolean {
    return true;
  }

  async run(event: UploadCompletedEvent, ctx: ProcessorContext): Promise<ProcessorResult> {
    const stream = await ctx.openStream(event.location);
    const known = event.sha256;
    const hash = createHash('sha256');
    const head: Buffer[] = [];
    let headLength = 0;
    let size = 0;
    let nextProgress = PROGRESS_EVERY;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (headLength < SNIFF_BYTES) {
          const part = chunk.subarray(0, SNIFF_BYTES - headLength);
          head.push(Buffer.from(part));
          headLength += part.length;
        }
        if (known) {
          if (headLength >= SNIFF_BYTES) break;
          continue;
        }
        hash.update(chunk);
        size += chunk.length;
        if (size >= nextProgress) {
          nextProgress += PROGRESS_EVERY;
          ctx.progress(event.size > 0 ? size / event.size : 1);
        }
      }
    } finally {
      stream.destroy();
    }
    if (known) size = event.size;
    else if (size !== event.size) {
      throw new ProcessingError('SIZE_MISMATCH', `read ${size} bytes, the upload has ${event.size}`);
    }
    const sniffed = sniff(Buffer.concat(head));
    const declared = event.metadata.filetype ?? event.metadata.contentType ?? null;
    const result: FingerprintResult = {
      sha256: known ?? hash.digest('hex'),
      size,
      mime: sniffed.mime,
      ext: sniffed.ext,
      declaredType: declared,
      declaredTypeMatches: declared ? declared.split(';')[0].trim().toLowerCase() === sniffed.mime : null,
      sha256Source: known ? 'server' : 'read',
    };
    return { result: { ...result }, outputLocation: null, outputSizeBytes: 0 };
  }
}
