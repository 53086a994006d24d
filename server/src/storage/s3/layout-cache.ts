import type { KvStore } from '@tus/server';
import type { PartLayout } from './tus-s3-store.js';

/** What is kept per upload: its parts (number, ETag, size) and tail, and whether a write is running. */
export interface CachedLayout {
  parts: Array<{ PartNumber?: number; ETag?: string; Size?: number }>;
  tail?: number;
  staleTail?: boolean;
  /** Set before a write sends its first part and cleared when it ends: still set, the layout may be stale. */
  writing?: boolean;
}

/**
 * An upload's S3 part layout, kept beside the upload (Redis in distributed mode) so a PATCH need not
 * ask S3 for it (ListParts + HeadObject of the tail) before its body. Only a writer holding the
 * upload's lock changes it: {@link beginWrite} marks it dirty before the first part is sent and
 * {@link endWrite} stores the layout the write left. A node killed mid-write leaves the dirty mark, and
 * the next reader falls back to asking S3 ({@link known} answers undefined); so does a missing entry.
 */
export class LayoutCache {
  constructor(private readonly kv: KvStore<CachedLayout>) {}

  /** The layout as the last finished write (or the creation) left it; undefined when unknown or dirty. */
  async known(id: string): Promise<PartLayout | undefined> {
    const cached = await this.kv.get(id);
    if (!cached || cached.writing) return undefined;
    return { parts: cached.parts, tail: cached.tail, ...(cached.staleTail ? { staleTail: true } : {}) };
  }

  /** A new upload: no parts, no tail. */
  created(id: string): Promise<void> {
    return this.kv.set(id, { parts: [] });
  }

  /** A write is about to send parts: whatever is stored stops counting until {@link endWrite}. */
  beginWrite(id: string): Promise<void> {
    return this.kv.set(id, { parts: [], writing: true });
  }

  /** The write ended and left `layout` (undefined: the upload is finished, or the layout is not known exactly). */
  async endWrite(id: string, layout: PartLayout | undefined): Promise<void> {
    if (!layout) return this.kv.delete(id);
    const parts = layout.parts.map(({ PartNumber, ETag, Size }) => ({ PartNumber, ETag, Size }));
    await this.kv.set(id, { parts, tail: layout.tail, ...(layout.staleTail ? { staleTail: true } : {}) });
  }

  forget(id: string): Promise<void> {
    return this.kv.delete(id);
  }
}
