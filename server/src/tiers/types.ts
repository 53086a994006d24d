import type { Readable } from 'node:stream';
import type { UploadLocation } from '@tus-edge/processors';
import type { ByteRange } from '../storage/types.js';

/** Storage classes a finished object can be in (the catalogue's `storage_class`). */
export type StorageClass = 'standard' | 'cold';

/**
 * Finished objects by storage class, beside the {@link UploadStorage} that writes them (which holds
 * the `standard` copies). A move to cold is three idempotent steps, so a node killed between any two
 * leaves something the next run finishes: `copyToCold` (the bytes now exist in both classes), the
 * catalogue records the class, `dropStandard`. Implementations: file (a second directory, `COLD_DIR`)
 * and S3 (a storage class, or another bucket / prefix); both pass `tiers.contract.ts`.
 */
export interface ObjectTiers {
  /**
   * Copies the finished bytes of `key` (`size` bytes) into the cold class; a half copy left by a
   * crash is replaced. Resolves once the copy is durable and has the right size.
   */
  copyToCold(key: string, size: number): Promise<void>;
  /** Whether the cold class holds `size` bytes for `key` (a finished copy). */
  hasCold(key: string, size: number): Promise<boolean>;
  /** Removes the standard copy of a moved object (a no-op where the class changed in place). Idempotent. */
  dropStandard(key: string): Promise<void>;
  /** Streams the bytes of `key` in class `storageClass`, or an inclusive range of them. */
  read(key: string, storageClass: StorageClass, range?: ByteRange): Promise<Readable>;
  /** Removes the cold copy of `key`; a missing one is not an error. */
  removeCold(key: string): Promise<void>;
  /** Where the processors read the bytes of `key` in class `storageClass` (a file path, or a bucket and key). */
  locationOf(key: string, storageClass: StorageClass): UploadLocation;
}

/** What a presigned download says about the bytes it serves. */
export interface PresignOptions {
  contentType: string;
  contentDisposition: string;
  cacheControl: string;
  /** Life of the URL in seconds. */
  expiresInSeconds: number;
}

/** Optional capability of S3: a URL that serves the bytes straight from the store. */
export interface Presigner {
  presign(key: string, storageClass: StorageClass, options: PresignOptions): Promise<string>;
}
