import type { Readable } from 'node:stream';
import { tusError } from '../errors.js';
import type { UploadRecord } from '../records/types.js';
import { StorageUnavailableError, type UploadStorage, type WriteEnd, type WriteResult } from '../storage/types.js';
import { type ExpectedChecksum, newHash, parseChecksum } from './checksum.js';
import type { AppContext } from '../context.js';

export interface ReceiveInput {
  offset: number;
  /** Most bytes the body may carry. */
  limit: number;
  /** The body's length is known (Content-Length), so it cannot run past `limit`. */
  lengthKnown: boolean;
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
 * ends. A checksummed write is all or nothing, and a body longer than `limit` is refused with 413
 * leaving nothing behind. Where the storage can cut back (files), the body is written in place and
 * undone on failure; where it cannot (S3), such a write is first staged locally and verified.
 */
export async function receiveBody(deps: AppContext, record: UploadRecord, input: ReceiveInput): Promise<ReceiveOutcome> {
  const verified = input.checksum !== undefined || input.trailerChecksum !== undefined;
  deps.metrics.uploadsInProgress.inc();
  try {
    const outcome =
      deps.storage.truncate ? await receiveInPlace(deps, record, input, verified)
      : verified || !input.lengthKnown ? await receiveStaged(deps, record, input, verified)
      : await receiveDirect(deps, record, input);
    deps.metrics.bytesReceived.inc(outcome.bytes);
    return outcome;
  } finally {
    deps.metrics.uploadsInProgress.dec();
  }
}

/** A plain write of known length to a storage without truncate: whatever arrives is kept. */
async function receiveDirect(deps: AppContext, record: UploadRecord, input: ReceiveInput): Promise<ReceiveOutcome> {
  const result = await write(deps.storage, record.id, input, input.body);
  if (result.end === 'limit') throw tusError('WRITE_FAILED', 'body longer than its Content-Length');
  return { bytes: result.bytes, end: result.end };
}

/**
 * In place, undone by truncate. A checksummed write is marked pending in the record before the first
 * byte, so a crash mid-write is undone on the next load (see Uploads.load).
 */
async function receiveInPlace(deps: AppContext, record: UploadRecord, input: ReceiveInput, verified: boolean): Promise<ReceiveOutcome> {
  const { storage, records } = deps;
  const rollback = async () => {
    await storage.truncate!(record.id, input.offset);
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
  let result: WriteResult;
  try {
    result = await write(storage, record.id, input, input.body, hash && ((chunk) => hash.update(chunk)));
  } catch (err) {
    if (verified) await rollback();
    throw err;
  }
  if (result.end === 'limit') {
    await rollback();
    throw tusError('BODY_EXCEEDS_LENGTH');
  }
  if (!verified) return { bytes: result.bytes, end: result.end };
  if (result.end !== 'complete') {
    await rollback();
    return { bytes: 0, end: result.end };
  }
  try {
    await verify(input, hash?.digest(), (algorithm) => hashStored(storage, record.id, input.offset, result.bytes, algorithm));
  } catch (err) {
    await rollback();
    throw err;
  }
  delete record.checksumPendingFrom;
  return { bytes: result.bytes, end: result.end };
}

/** Staged locally first; only a body that arrived within its limit and matched its checksum is stored. */
async function receiveStaged(deps: AppContext, record: UploadRecord, input: ReceiveInput, verified: boolean): Promise<ReceiveOutcome> {
  const hash = input.checksum ? newHash(input.checksum.algorithm) : undefined;
  return deps.staging.withScratch(async (scratch, scratchId) => {
    const staged = await scratch.write(scratchId, 0, input.body, {
      limit: input.limit, signal: input.signal, onChunk: hash && ((chunk) => hash.update(chunk)),
    });
    if (staged.end === 'limit') throw tusError('BODY_EXCEEDS_LENGTH');
    if (verified) {
      if (staged.end !== 'complete') return { bytes: 0, end: staged.end };
      await verify(input, hash?.digest(), (algorithm) => hashStored(scratch, scratchId, 0, staged.bytes, algorithm));
    }
    const stored = await write(deps.storage, record.id, { ...input, limit: staged.bytes, lengthKnown: true }, await scratch.read(scratchId));
    if (stored.bytes !== staged.bytes) throw tusError('WRITE_FAILED', `stored ${stored.bytes} of ${staged.bytes} verified bytes`);
    return { bytes: stored.bytes, end: staged.end };
  });
}

async function write(
  storage: UploadStorage, id: string, input: ReceiveInput, body: Readable, onChunk?: (chunk: Buffer) => void,
): Promise<WriteResult> {
  try {
    const expected = input.lengthKnown ? input.limit : undefined;
    return await storage.write(id, input.offset, body, { limit: input.limit, expected, signal: input.signal, onChunk });
  } catch (err) {
    if (err instanceof StorageUnavailableError) throw err;
    throw tusError('WRITE_FAILED', (err as Error).message);
  }
}

/** Throws unless the body's digest equals the checksum from the header or the trailer. */
async function verify(
  input: ReceiveInput, digest: Buffer | undefined, hashStoredWith: (algorithm: ExpectedChecksum['algorithm']) => Promise<Buffer>,
): Promise<void> {
  let expected = input.checksum;
  if (!expected) {
    const trailer = input.trailerChecksum?.();
    if (!trailer) throw tusError('INVALID_CHECKSUM_HEADER', 'announced Upload-Checksum trailer is missing');
    expected = parseChecksum(trailer);
  }
  const actual = digest ?? (await hashStoredWith(expected.algorithm));
  if (!actual.equals(expected.digest)) throw tusError('CHECKSUM_MISMATCH', `${expected.algorithm} of the body`);
}

/** Hashes bytes already written (trailer checksums name their algorithm only after the body). */
async function hashStored(storage: UploadStorage, id: string, offset: number, length: number, algorithm: ExpectedChecksum['algorithm']): Promise<Buffer> {
  const hash = newHash(algorithm);
  if (length > 0) {
    const stream = await storage.read(id, { start: offset, end: offset + length - 1 });
    for await (const chunk of stream) hash.update(chunk as Buffer);
  }
  return hash.digest();
}
