import type { Readable } from 'node:stream';
import { tusError } from '../errors.js';
import { HeldBody } from './held-body.js';
import type { Staging } from './staging.js';
import { StorageUnavailableError, type UploadStorage, type WriteEnd, type WriteResult } from './types.js';
import { type ExpectedChecksum, newHash } from './checksum.js';

export interface ReceiveInput {
  offset: number;
  /** Most bytes the body may carry. */
  limit: number;
  /** The body's length is known (Content-Length), so it cannot run past `limit`. */
  lengthKnown: boolean;
  body: Readable;
  /** Checksum from the `Upload-Checksum` header. */
  checksum?: ExpectedChecksum;
  /**
   * The checksum that comes as an HTTP trailer (checksum-trailer extension), read once the body has
   * ended; throws when the trailer is missing or malformed.
   */
  trailerChecksum?: () => ExpectedChecksum;
  /** What the storage's offset check read, for the write that follows it (see `StoredOffset.basis`). */
  basis?: unknown;
  signal: AbortSignal;
  /**
   * Sees every chunk the write accepts, before it is stored (the uploads domain follows the content
   * hash with it); a failed or undone write shows in the outcome's byte count, never here.
   */
  onChunk?: (chunk: Buffer) => void;
}

export interface ReceiveOutcome {
  /** Bytes kept at `offset`. */
  bytes: number;
  end: Exclude<WriteEnd, 'limit'>;
}

/**
 * How request bodies reach the storage, chosen once at start-up from what the storage can do
 * ({@link createReceiver}). Bytes of a plain write are kept however the body ends. A checksummed write
 * is all or nothing, and a body longer than `limit` is refused with 413 leaving nothing behind.
 */
export interface Receiver {
  /**
   * A checksummed write goes to the storage before it is verified, so the upload record must mark it
   * pending before the first byte: a crash mid-write is then undone on the next load ({@link undo}).
   */
  readonly verifiesInPlace: boolean;
  /** The request body to receive from: the socket stream itself, or one taken in from its first byte. */
  take(body: Readable): Readable;
  receive(id: string, input: ReceiveInput): Promise<ReceiveOutcome>;
  /** Cuts an upload back to `offset`: what an interrupted verified write left (in place only). */
  undo(id: string, offset: number): Promise<void>;
}

/**
 * Where the storage can cut back (files), bodies are written in place and a failed checksummed write
 * is truncated away. Where it cannot (S3 parts are immutable), a checksummed write or one of unknown
 * length is first staged locally and verified; a plain write of known length streams straight in.
 */
export function createReceiver(storage: UploadStorage, staging: Staging): Receiver {
  const truncate = storage.truncate?.bind(storage);
  return truncate ? new InPlaceReceiver(storage, truncate) : new StagedReceiver(storage, staging);
}

/** In place, undone by truncate. */
class InPlaceReceiver implements Receiver {
  readonly verifiesInPlace = true;

  constructor(
    private readonly storage: UploadStorage,
    private readonly truncate: (id: string, length: number) => Promise<void>,
  ) {}

  take(body: Readable): Readable {
    return body;
  }

  undo(id: string, offset: number): Promise<void> {
    return this.truncate(id, offset);
  }

  async receive(id: string, input: ReceiveInput): Promise<ReceiveOutcome> {
    const verified = input.checksum !== undefined || input.trailerChecksum !== undefined;
    const hash = input.checksum ? newHash(input.checksum.algorithm) : undefined;
    let result: WriteResult;
    try {
      result = await write(this.storage, id, input, input.body, both(hash && ((chunk) => hash.update(chunk)), input.onChunk));
    } catch (err) {
      if (verified) await this.undo(id, input.offset);
      throw err;
    }
    if (result.end === 'limit') {
      await this.undo(id, input.offset);
      throw tusError('BODY_EXCEEDS_LENGTH');
    }
    if (!verified) return { bytes: result.bytes, end: result.end };
    if (result.end !== 'complete') {
      await this.undo(id, input.offset);
      return { bytes: 0, end: result.end };
    }
    try {
      await verify(input, hash?.digest(), (algorithm) => hashStored(this.storage, id, input.offset, result.bytes, algorithm));
    } catch (err) {
      await this.undo(id, input.offset);
      throw err;
    }
    return { bytes: result.bytes, end: result.end };
  }
}

/** For storages that cannot undo a write (S3). */
class StagedReceiver implements Receiver {
  readonly verifiesInPlace = false;

  constructor(
    private readonly storage: UploadStorage,
    private readonly staging: Staging,
  ) {}

  /**
   * Such a storage spends S3 round trips before its write starts reading, so the body is taken in from
   * the first byte ({@link HeldBody}): a client that disconnects meanwhile still has what it sent stored.
   */
  take(body: Readable): Readable {
    return new HeldBody(body);
  }

  async undo(): Promise<void> {
    // Nothing reaches this storage before it is verified.
  }

  receive(id: string, input: ReceiveInput): Promise<ReceiveOutcome> {
    const verified = input.checksum !== undefined || input.trailerChecksum !== undefined;
    return verified || !input.lengthKnown ? this.receiveStaged(id, input, verified) : this.receiveDirect(id, input);
  }

  /** A plain write of known length: whatever arrives is kept. */
  private async receiveDirect(id: string, input: ReceiveInput): Promise<ReceiveOutcome> {
    const result = await write(this.storage, id, input, input.body, input.onChunk);
    if (result.end === 'limit') throw tusError('WRITE_FAILED', 'body longer than its Content-Length');
    return { bytes: result.bytes, end: result.end };
  }

  /** Staged locally first; only a body that arrived within its limit and matched its checksum is stored. */
  private async receiveStaged(id: string, input: ReceiveInput, verified: boolean): Promise<ReceiveOutcome> {
    const hash = input.checksum ? newHash(input.checksum.algorithm) : undefined;
    return this.staging.withScratch(async (scratch, scratchId) => {
      const staged = await scratch.write(scratchId, 0, input.body, {
        limit: input.limit, signal: input.signal, onChunk: both(hash && ((chunk) => hash.update(chunk)), input.onChunk),
      });
      if (staged.end === 'limit') throw tusError('BODY_EXCEEDS_LENGTH');
      if (verified) {
        if (staged.end !== 'complete') return { bytes: 0, end: staged.end };
        await verify(input, hash?.digest(), (algorithm) => hashStored(scratch, scratchId, 0, staged.bytes, algorithm));
      }
      const stored = await write(this.storage, id, { ...input, limit: staged.bytes, lengthKnown: true }, await scratch.read(scratchId));
      if (stored.bytes !== staged.bytes) throw tusError('WRITE_FAILED', `stored ${stored.bytes} of ${staged.bytes} verified bytes`);
      return { bytes: stored.bytes, end: staged.end };
    });
  }
}

/** One chunk observer out of two optional ones (no wrapper when there is only one). */
function both(a?: (chunk: Buffer) => void, b?: (chunk: Buffer) => void): ((chunk: Buffer) => void) | undefined {
  return a && b ? (chunk) => (a(chunk), b(chunk)) : (a ?? b);
}

async function write(
  storage: UploadStorage, id: string, input: ReceiveInput, body: Readable, onChunk?: (chunk: Buffer) => void,
): Promise<WriteResult> {
  try {
    const expected = input.lengthKnown ? input.limit : undefined;
    return await storage.write(id, input.offset, body, { limit: input.limit, expected, signal: input.signal, onChunk, basis: input.basis });
  } catch (err) {
    if (err instanceof StorageUnavailableError) throw err;
    throw tusError('WRITE_FAILED', (err as Error).message);
  }
}

/** Throws unless the body's digest equals the checksum from the header or the trailer. */
async function verify(
  input: ReceiveInput, digest: Buffer | undefined, hashStoredWith: (algorithm: ExpectedChecksum['algorithm']) => Promise<Buffer>,
): Promise<void> {
  const expected = input.checksum ?? input.trailerChecksum!();
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
