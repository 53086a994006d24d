import type { Readable } from 'node:stream';
import { tusError } from '../errors.js';
import type { UploadRecord } from '../records/types.js';
import type { WriteEnd } from '../storage/types.js';
import { type ExpectedChecksum, newHash, parseChecksum } from './checksum.js';
import type { TusDeps } from './deps.js';

export interface ReceiveInput {
  offset: number;
  /** Most bytes the body may carry. */
  limit: number;
  body: Readable;
  /** Checksum from the `Upload-Checksum` header. */
  checksum?: ExpectedChecksum;
  /** The checksum comes as an HTTP trailer (checksum-trailer extension). */
  trailerChecksum?: () => string | undefined;
  signal: AbortSignal;
}

export interface ReceiveOutcome {
  /** Bytes kept at `offset`. */
  bytes: number;
  end: Exclude<WriteEnd, 'limit'>;
}

/**
 * Streams a request body into storage at `offset`. Bytes of a plain write are kept however the body
 * ends. A checksummed write is all or nothing: it is marked pending in the record before the first
 * byte (so a crash mid-write is undone on the next load) and cut back unless the body arrived whole
 * and matched. A body longer than `limit` is cut back and refused with 413.
 */
export async function receiveBody(deps: TusDeps, record: UploadRecord, input: ReceiveInput): Promise<ReceiveOutcome> {
  const { storage, records, metrics } = deps;
  const verified = input.checksum !== undefined || input.trailerChecksum !== undefined;
  const rollback = async () => {
    await storage.truncate(record.id, input.offset);
    if (verified) {
      delete record.checksumPendingFrom;
      await records.set(record.id, record);
    }
  };
  if (verified) {
    record.checksumPendingFrom = input.offset;
    await records.set(record.id, record);
  }
  const hash = input.checksum ? newHash(input.checksum.algorithm) : undefined;
  metrics.uploadsInProgress.inc();
  let result;
  try {
    result = await storage.write(record.id, input.offset, input.body, {
      limit: input.limit,
      signal: input.signal,
      onChunk: hash ? (chunk) => hash.update(chunk) : undefined,
    });
  } catch (err) {
    if (verified) await rollback();
    throw tusError('WRITE_FAILED', (err as Error).message);
  } finally {
    metrics.uploadsInProgress.dec();
  }
  if (result.end === 'limit') {
    await rollback();
    throw tusError('BODY_EXCEEDS_LENGTH');
  }
  if (verified) {
    if (result.end !== 'complete') {
      await rollback();
      return { bytes: 0, end: result.end };
    }
    let expected = input.checksum;
    if (!expected) {
      const trailer = input.trailerChecksum?.();
      if (!trailer) {
        await rollback();
        throw tusError('INVALID_CHECKSUM_HEADER', 'announced Upload-Checksum trailer is missing');
      }
      try {
        expected = parseChecksum(trailer);
      } catch (err) {
        await rollback();
        throw err;
      }
    }
    const actual = hash ? hash.digest() : await hashStored(deps, record.id, input.offset, result.bytes, expected);
    if (!actual.equals(expected.digest)) {
      await rollback();
      throw tusError('CHECKSUM_MISMATCH', `${expected.algorithm} of ${result.bytes} bytes`);
    }
    delete record.checksumPendingFrom;
  }
  metrics.bytesReceived.inc(result.bytes);
  return { bytes: result.bytes, end: result.end };
}

/** Hashes bytes already written (trailer checksums name their algorithm only after the body). */
async function hashStored(deps: TusDeps, id: string, offset: number, length: number, expected: ExpectedChecksum): Promise<Buffer> {
  const hash = newHash(expected.algorithm);
  if (length > 0) {
    const stream = await deps.storage.read(id, { start: offset, end: offset + length - 1 });
    for await (const chunk of stream) hash.update(chunk as Buffer);
  }
  return hash.digest();
}
