/**
 * The file catalogue (issue 14): what the server knows about finished uploads once they are handed
 * over from the upload records. One interface, two backends (SQLite under `DATA_DIR`, PostgreSQL with
 * `DATABASE_URL`), one contract suite (`catalogue.contract.ts`).
 */

/** Whose files: the token's tenant and subject; both `''` when auth is off (one anonymous owner). */
export interface OwnerScope {
  tenant: string;
  owner: string;
}

/** Where an object's bytes live: the storage's standard place, or the colder one (lifecycle tiers). */
export type StorageClass = 'standard' | 'cold';

/** What processing produced for a file, as summarised for listings (free-form JSON, owned by the pipeline). */
export type ProcessingSummary = Record<string, unknown>;

/** A catalogued file (its current version), as the API shows it. Times are ISO 8601 strings. */
export interface CatalogueFile {
  /** A new id (not the upload id). */
  id: string;
  tenant: string;
  owner: string;
  name: string;
  /** Logical key naming the file across versions (metadata `key`); null when none. */
  key: string | null;
  /** Sniffed media type when known, else the declared one (metadata `filetype`); `application/octet-stream` when neither. */
  mediaType: string;
  size: number;
  /** Null until known (fingerprint processor, see {@link Catalogue.setContent}). */
  sha256: string | null;
  /** The object holding the current version's bytes. */
  objectId: string;
  /** The upload of the current version. */
  uploadId: string;
  storageClass: StorageClass;
  metadata: Record<string, string | null>;
  processing: ProcessingSummary | null;
  tags: string[];
  currentVersion: number;
  createdAt: string;
  finishedAt: string;
  lastAccessedAt: string | null;
  updatedAt: string;
}

/** Stored bytes, shared by every file version with the same content in a tenant (reference counted). */
export interface CatalogueObject {
  id: string;
  tenant: string;
  sha256: string | null;
  size: number;
  /** The storage key holding the bytes: the upload id whose bytes they are. */
  location: string;
  storageClass: StorageClass;
  /** How many file versions point at it. */
  refs: number;
  createdAt: string;
}

/** One version of a file. */
export interface FileVersion {
  fileId: string;
  version: number;
  uploadId: string;
  objectId: string;
  size: number;
  sha256: string | null;
  createdAt: string;
  name: string;
  metadata: Record<string, string | null>;
  /** The upload token its upload was created with: it still reaches the upload once the record ended. */
  tokenId: string | null;
  /** Bytes its upload is charged against the owner's quota; given back when the version goes. */
  chargedBytes: number | null;
}

/** What {@link Catalogue.byUpload} finds: the file, the version the upload is, and the object holding its bytes. */
export interface UploadInCatalogue {
  file: CatalogueFile;
  version: FileVersion;
  object: CatalogueObject;
}

/** The hand-over of a finished upload (built from its record by `catalogue/ingest.ts`). */
export interface IngestInput {
  uploadId: string;
  tenant: string;
  owner: string;
  name: string;
  key: string | null;
  /** Declared media type (metadata `filetype`), if any. */
  mediaType: string | null;
  size: number;
  sha256?: string | null;
  metadata: Record<string, string | null>;
  tags: string[];
  /** The upload token the upload was created with, if any (kept past the record's end). */
  tokenId?: string | null;
  /** What the upload is charged against its owner's quota (`record.charged.bytes`), if anything. */
  chargedBytes?: number | null;
  /** When the upload was created and finished (ISO). */
  createdAt: string;
  finishedAt: string;
}

/** What {@link Catalogue.ingest} did. */
export interface IngestResult {
  file: CatalogueFile;
  /** The version the upload became (1 for a new file). */
  version: number;
  /** False when this upload had been ingested before (nothing changed). */
  created: boolean;
  /** With a known sha256 already stored for the tenant: this upload's bytes, now unreferenced (the caller deletes them). */
  freed?: string;
}

/** Filters of {@link Catalogue.list}; all optional, combined with AND. */
export interface FileFilters {
  tag?: string;
  mediaType?: string;
  namePrefix?: string;
  /** Inclusive lower bound of `createdAt` (ISO). */
  createdFrom?: string;
  /** Exclusive upper bound of `createdAt` (ISO). */
  createdTo?: string;
}

/** A page of files, newest first; `nextCursor` is absent on the last page. */
export interface FilePage {
  files: CatalogueFile[];
  nextCursor?: string;
}

/** What `PATCH /api/files/:id` may change. */
export interface FilePatch {
  name?: string;
  tags?: string[];
  /** The processing summary (written by the pipeline side, not by clients). */
  processing?: ProcessingSummary | null;
}

/** A file removed by {@link Catalogue.remove}: the storage locations whose last reference went with it. */
export interface Removed {
  file: CatalogueFile;
  /** The upload ids of every removed version (their processing results and status go with them). */
  uploads: string[];
  /** Locations (upload ids) whose bytes the caller must now delete. */
  freed: string[];
  /** The same clean-up as written to the durable to-delete list: done with {@link Catalogue.deleteDone}. */
  pending: PendingDelete[];
}

/** Counts and bytes of one group in {@link Usage}. */
export interface UsageFigures {
  files: number;
  bytes: number;
}

/** What an owner (or a whole tenant, with `owner` undefined) stores. */
export interface Usage {
  files: number;
  /** Bytes of the distinct objects the files point at (deduplicated content counted once). */
  bytesStored: number;
  /** Bytes saved by deduplication: the sum of file sizes minus `bytesStored`. */
  bytesDeduplicated: number;
  byMediaType: Record<string, UsageFigures>;
  byStorageClass: Record<StorageClass, UsageFigures>;
}

/** Usage per tenant, bounded: the largest tenants by bytes stored, the others summed. */
export interface TenantUsage {
  top: Array<{ tenant: string } & UsageFigures>;
  other: { tenants: number } & UsageFigures;
}

/** A lifecycle rule for {@link Catalogue.candidates}: which files, and past which age. */
export interface LifecycleRule {
  /** Match files with this tag (any when absent). */
  tag?: string;
  /** Match files with this media type; a trailing `/*` matches a family (`video/*`). */
  mediaType?: string;
  /** `created`: age since creation (retention); `accessed`: since last access, or creation when never accessed (tiers). */
  basis: 'created' | 'accessed';
  /** Files older than this many milliseconds match. */
  olderThanMs: number;
  /** Only files in this storage class (e.g. `standard` for a move to cold). */
  storageClass?: StorageClass;
}

/** Result of {@link Catalogue.setContent}. */
export interface ContentSet {
  file: CatalogueFile;
  /**
   * A location whose bytes are no longer referenced because this upload's content was already stored
   * for the tenant (deduplication): the caller deletes them.
   */
  freed?: string;
}

/** Where the bytes of an upload's file version live: another upload's bytes, for a duplicate. */
export interface Located {
  fileId: string;
  version: number;
  object: CatalogueObject;
}

/** Versions dropped (pruned or deleted): their upload ids (results and status go with them) and the locations whose last reference went. */
export interface Dropped {
  uploads: string[];
  freed: string[];
  /** The same clean-up as written to the durable to-delete list: done with {@link Catalogue.deleteDone}. */
  pending: PendingDelete[];
}

/**
 * Clean-up owed by a committed deletion (the durable to-delete list): written in the transaction that
 * freed it, so a node killed before the clean-up leaves it for the next drain on any node.
 * - `bytes`: the bytes at storage location `ref` (both storage classes);
 * - `upload`: upload `ref`'s record (within its grace), its quota charge (`chargedBytes`, given back
 *   from the catalogue when the record already ended), and with `results` its processing results and
 *   status. `results` is false when a restored version still shows the upload: its results and status
 *   stay, and its quota charge moved to that version (nothing is given back).
 */
export type PendingDelete =
  | { kind: 'bytes'; ref: string; tenant: string }
  | { kind: 'upload'; ref: string; tenant: string; owner: string; chargedBytes: number | null; results: boolean };

/** What a restore did: the file with its new current version, which points at the restored one's object. */
export interface Restored {
  file: CatalogueFile;
  version: FileVersion;
}

/**
 * The file catalogue. Every read and write of a file is scoped by owner: a file of another owner is
 * `undefined`, exactly as if it did not exist (the API answers 404).
 */
export interface Catalogue {
  /** Creates or upgrades the schema (under a lock: nodes starting at once do not race). */
  migrate(): Promise<void>;
  /**
   * The hand-over of a finished upload. Idempotent by upload id: a second call returns the first
   * result with `created: false`. Creates a file, or a new version of the owner's file with the same
   * `key`.
   */
  ingest(input: IngestInput): Promise<IngestResult>;
  /** A file of `scope` by id. */
  get(scope: OwnerScope, id: string): Promise<CatalogueFile | undefined>;
  /** The file, version and object an upload became, whoever owns it (the tus HEAD/GET fallback). */
  byUpload(uploadId: string): Promise<UploadInCatalogue | undefined>;
  /** The files of `scope`, newest first, filtered, `limit` per page (1–1000). */
  list(scope: OwnerScope, filters: FileFilters, cursor: string | undefined, limit: number): Promise<FilePage>;
  /** The versions of a file, newest first. */
  versions(scope: OwnerScope, id: string): Promise<FileVersion[] | undefined>;
  /** Changes name, tags or processing summary; undefined when no such file. */
  update(scope: OwnerScope, id: string, patch: FilePatch): Promise<CatalogueFile | undefined>;
  /** Removes a file with all its versions; undefined when no such file. */
  remove(scope: OwnerScope, id: string): Promise<Removed | undefined>;
  /** What `scope` stores; `owner` undefined sums the whole tenant. */
  usage(scope: { tenant: string; owner?: string }): Promise<Usage>;
  /** Files and stored bytes of the `limit` largest tenants, and the rest summed (bounded Prometheus gauges). */
  usageByTenant(limit: number): Promise<TenantUsage>;
  /**
   * Records a version's content once known (the fingerprint): its sha256 and sniffed media type. When
   * the tenant already stores that content, the version points at the existing object (reference
   * counted) and the new object's location is returned as `freed`. Undefined when the upload is not
   * catalogued.
   */
  setContent(uploadId: string, sha256: string, mediaType: string | null): Promise<ContentSet | undefined>;
  /** Files matching a lifecycle rule at `now`, oldest first, at most `limit`. */
  candidates(rule: LifecycleRule, now: Date, limit: number): Promise<CatalogueFile[]>;
  /** Moves a file's current object to a storage class (after its bytes moved). */
  setStorageClass(fileId: string, storageClass: StorageClass): Promise<void>;
  /** Records an access (download) of a file now. */
  touch(fileId: string, at?: Date): Promise<void>;
  /** A value of the catalogue's own key-value table (markers such as the one-time import). */
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
  // --- Dedup and versions (catalogue/versions.ts) ---
  /** The object holding the bytes of the version `uploadId` became (the dedup indirection); undefined when not catalogued. */
  locate(uploadId: string): Promise<Located | undefined>;
  /** The tenant's stored object with this content, if any. */
  findContent(tenant: string, sha256: string): Promise<CatalogueObject | undefined>;
  /** Version `n` of a file of `scope`, with its object. */
  version(scope: OwnerScope, id: string, n: number): Promise<{ version: FileVersion; object: CatalogueObject } | undefined>;
  /** Makes version `n` current as a new version pointing at its object (no byte copied); undefined when no such file or version. */
  restore(scope: OwnerScope, id: string, n: number): Promise<Restored | undefined>;
  /** Deletes an older version (`current` for the current one); its object is freed with its last reference. */
  removeVersion(scope: OwnerScope, id: string, n: number): Promise<Dropped | 'current' | undefined>;
  /** Keeps the newest `keep` versions of a file (0: all); returns what was dropped. */
  pruneVersions(fileId: string, keep: number): Promise<Dropped>;
  /** Files finished before `finishedBefore` (ISO) whose processing summary is not recorded yet, oldest first. */
  unprocessed(finishedBefore: string, limit: number): Promise<Array<{ fileId: string; uploadId: string }>>;
  // --- The durable to-delete list (catalogue/pending.ts) ---
  /** Clean-up owed by committed deletions, oldest first, at most `limit` (the drain after a crash). */
  pendingDeletes(limit: number): Promise<PendingDelete[]>;
  /**
   * Marks clean-up done: its entry leaves the list. False when it was not listed (any more): another
   * drain took it first, so a step that must happen once (giving a quota charge back) is skipped.
   */
  deleteDone(item: Pick<PendingDelete, 'kind' | 'ref'>): Promise<boolean>;
  /** Whether the database answers (readiness). */
  check(): Promise<void>;
  close(): Promise<void>;
}
