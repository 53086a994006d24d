import type { KvStore } from '@tus/server';

/** How an upload takes part in the concatenation extension. */
export type ConcatRole =
  | { kind: 'partial' }
  | {
      kind: 'final';
      parts: string[];
      assembled: boolean;
      /** The Upload-Concat header exactly as received, echoed on HEAD. */
      header: string;
    };

/**
 * What the server knows about an upload besides its bytes. The current offset is not stored here:
 * the storage is the truth for it, so a crash can never make the two disagree.
 */
export interface UploadRecord {
  id: string;
  /** Total length; absent while the length is deferred (or a final upload is not assembled yet). */
  size?: number;
  /** Decoded metadata; keys without a value map to null. */
  metadata: Record<string, string | null>;
  /** The `Upload-Metadata` header exactly as the client sent it, echoed on HEAD. */
  metadataHeader?: string;
  concat?: ConcatRole;
  createdAt: string;
  updatedAt: string;
  /** Unfinished uploads expire at this time (sliding: every write moves it). */
  expiresAt?: string;
  completedAt?: string;
  /** Hex sha256 of the finished upload's bytes, when known at finish (see uploads/content-hash.ts). */
  sha256?: string;
  /** Set while a checksummed write is unverified: on recovery the bytes from here on are cut. */
  checksumPendingFrom?: number;
  /** Set once the completion event is durably recorded; finished uploads without it are re-published. */
  eventRecordedAt?: string;
  /**
   * Set once the finished upload was handed over to the file catalogue (`Catalogue.ingest`); the record
   * is then kept only for `CATALOGUE_RECORD_GRACE` (HEAD/GET are answered from the catalogue after).
   */
  cataloguedAt?: string;
  /** Set once the bytes were swept after expiry; the record stays as a tombstone so clients get 410. */
  expiredAt?: string;
  /** Who created it (the token's `sub`) and its tenant; absent when auth is off. Only they may reach it. */
  owner?: string;
  tenant?: string;
  /** The upload token it was created with: that token keeps the right to resume it after it expires. */
  tokenId?: string;
  /** Largest length allowed for this upload (an upload token's limit); `MAX_SIZE` when absent. */
  maxSize?: number;
  /** An upload token's media types: its first bytes must be one of them (and of ALLOWED_TYPES, if set). */
  allowedTypes?: string[];
  /** What it counts against its owner's quota until terminated or expired (see limits/quotas.ts). */
  charged?: { bytes: number; open: boolean };
}

/** Who an upload belongs to and what it may become, fixed at creation (see auth/security.ts). */
export type UploadAccess = Pick<UploadRecord, 'owner' | 'tenant' | 'tokenId' | 'maxSize' | 'allowedTypes'>;

/** Upload records, keyed by upload id: the tus `KvStore` contract, plus what the periodic sweep asks. */
export type UploadRecordStore = KvStore<UploadRecord> & {
  list(): Promise<string[]>;
  /**
   * Ids of the records whose {@link sweepAt} is at or before `now`: those the periodic sweep must look
   * at. May include more (the sweep checks each record), never fewer.
   */
  due(now: number): Promise<string[]>;
};

/** How long a finished record is kept after its hand-over to the catalogue when a store is not told (1 h). */
export const DEFAULT_CATALOGUE_GRACE_MS = 3_600_000;

/**
 * When the periodic sweep must look at a record: an unfinished upload when it expires, a tombstone
 * when its retention ends, a finished upload whose completion event is not recorded yet or that is not
 * handed over to the catalogue yet at once, a catalogued one when its grace (`graceMs`) ends; never for
 * finished partial uploads (they are not catalogued: their final upload is).
 */
export function sweepAt(record: UploadRecord, expiryMs: number, graceMs = DEFAULT_CATALOGUE_GRACE_MS): number | undefined {
  if (record.expiredAt) return time(record.expiredAt) + tombstoneRetentionMs(expiryMs);
  if (!record.completedAt) return record.expiresAt ? time(record.expiresAt) : undefined;
  if (record.concat?.kind === 'partial') return undefined;
  if (!record.eventRecordedAt || !record.cataloguedAt) return time(record.completedAt);
  // An unbounded grace (a catalogue not shared by every node): the record is kept, nothing is due.
  return Number.isFinite(graceMs) ? time(record.cataloguedAt) + graceMs : undefined;
}

/** Milliseconds of an ISO time; a value that is not one counts as long past (the sweep then looks). */
function time(iso: string): number {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : 0;
}

/** Final uploads waiting for an unfinished partial, keyed by the partial's id. */
export type FinalLinkStore = KvStore<string[]> & { list(): Promise<string[]> };

/**
 * How long an expired upload's tombstone is kept so clients get 410 rather than 404: one expiry
 * period, and at least an hour (a short expiry must not make a returning client see 404 at once).
 */
export function tombstoneRetentionMs(expiryMs: number): number {
  return Math.max(expiryMs, 3_600_000);
}

/**
 * How long a record must be kept, in ms from now: unfinished uploads until the tombstone retention
 * after they expire (time for the sweep to delete their bytes and turn them into a tombstone),
 * tombstones for the retention after expiry, finished uploads handed over to the catalogue for
 * `graceMs` after the hand-over (no end when `graceMs` is Infinity); other finished uploads have no end. Stores with TTLs (Redis) use it.
 */
export function recordTtl(record: UploadRecord, expiryMs: number, now = Date.now(), graceMs = DEFAULT_CATALOGUE_GRACE_MS): number | undefined {
  if (!record.expiredAt && record.completedAt && record.cataloguedAt) return Number.isFinite(graceMs) ? Date.parse(record.cataloguedAt) + graceMs - now : undefined;
  const until = record.expiredAt ?? (record.completedAt ? undefined : record.expiresAt);
  return until === undefined ? undefined : Date.parse(until) + tombstoneRetentionMs(expiryMs) - now;
}
