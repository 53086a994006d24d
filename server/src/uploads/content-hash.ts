import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { DedupConfig } from '../config/dedup.js';

/** A running sha256 of the bytes `[0, bytes)` of one upload, as they were written by this process. */
interface Running {
  hash: Hash;
  bytes: number;
}

/** What {@link ContentHasher.begin} hands to one write. */
export interface HashedWrite {
  /** Sees every chunk the write accepts (pass it as the write's `onChunk`). */
  onChunk(chunk: Buffer): void;
  /**
   * The write is over and the upload now holds `offset` bytes: the hash is kept when it covers exactly
   * those bytes, dropped otherwise (a failed, undone or cut write shows as a count that disagrees).
   */
  settle(offset: number): void;
  /** The write failed: the hash is dropped. */
  drop(): void;
}

/**
 * The sha256 of uploads, followed while their bytes arrive, in this process's memory: the content hash
 * is then known the moment an upload finishes, without reading it back. It follows an upload only while
 * every write reaches this process in order; anything else (a write on another node, a restart, a
 * checksummed write that was undone) shows as a byte count that does not match the next write's offset,
 * and the hash is simply dropped — the sha256 then comes from a read-back at finish (small uploads) or
 * from the fingerprint processor. Bounded: at most `maxTracked` uploads, the least recently written
 * dropped first.
 */
export class ContentHasher {
  private readonly running = new Map<string, Running>();

  constructor(private readonly maxTracked: number) {}

  /** Uploads followed now. */
  get size(): number {
    return this.running.size;
  }

  /**
   * Starts following a write at `offset` of upload `id`: from scratch at offset 0, else continuing a
   * hash that covers exactly `[0, offset)`. Returns undefined (and forgets the upload) when there is none.
   */
  begin(id: string, offset: number): HashedWrite | undefined {
    let state = this.running.get(id);
    this.running.delete(id);
    if (offset === 0) state = { hash: createHash('sha256'), bytes: 0 };
    if (!state || state.bytes !== offset) return undefined;
    const running = state;
    let failed = false;
    return {
      onChunk: (chunk) => {
        running.hash.update(chunk);
        running.bytes += chunk.length;
      },
      settle: (end) => {
        if (failed || running.bytes !== end) return;
        // Re-inserted last: the Map's order is the order of last writes.
        this.running.set(id, running);
        if (this.running.size > this.maxTracked) this.running.delete(this.running.keys().next().value!);
      },
      drop: () => {
        failed = true;
      },
    };
  }

  /**
   * The hex sha256 of upload `id` if the running hash covers exactly its `size` bytes; the upload is
   * forgotten either way (called once, when it finishes).
   */
  take(id: string, size: number): string | undefined {
    const state = this.running.get(id);
    this.running.delete(id);
    return state && state.bytes === size ? state.hash.digest('hex') : undefined;
  }

  /** Forgets upload `id` (terminated or expired). */
  forget(id: string): void {
    this.running.delete(id);
  }
}

/** How a finished upload's sha256 became known (or did not): the `how` of {@link UploadHashes.atFinish}. */
export type HashSource = 'receiving' | 'read-back' | 'later';

/**
 * The content hash of uploads for the uploads domain: followed while receiving
 * (`HASH_WHILE_RECEIVING`), else read back at finish up to `HASH_AT_FINISH_MAX`, else left to the
 * fingerprint processor (`later`).
 */
export class UploadHashes {
  private readonly hasher?: ContentHasher;

  constructor(
    private readonly config: Pick<DedupConfig, 'hashWhileReceiving' | 'hashAtFinishMaxBytes' | 'hashTrackedMax'>,
    private readonly read: (id: string) => Promise<Readable>,
  ) {
    if (config.hashWhileReceiving) this.hasher = new ContentHasher(config.hashTrackedMax);
  }

  /** See {@link ContentHasher.begin}; undefined when hashing while receiving is off. */
  begin(id: string, offset: number): HashedWrite | undefined {
    return this.hasher?.begin(id, offset);
  }

  /** Forgets a running hash (the upload was removed or expired). */
  forget(id: string): void {
    this.hasher?.forget(id);
  }

  /** The sha256 of a finished upload of `size` bytes, and how it was known. */
  async atFinish(id: string, size: number): Promise<{ sha256?: string; how: HashSource }> {
    const followed = this.hasher?.take(id, size);
    if (followed) return { sha256: followed, how: 'receiving' };
    if (size > this.config.hashAtFinishMaxBytes) return { how: 'later' };
    const hash = createHash('sha256');
    if (size > 0) for await (const chunk of await this.read(id)) hash.update(chunk as Buffer);
    return { sha256: hash.digest('hex'), how: 'read-back' };
  }
}
