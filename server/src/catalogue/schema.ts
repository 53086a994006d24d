/**
 * The catalogue's tables as Kysely sees them (one typed query layer for SQLite and PostgreSQL). Times
 * are ISO 8601 text (ordered lexically on both backends); JSON columns are text; sizes are bigint
 * (PostgreSQL returns them as strings: `rows.ts` turns them into numbers).
 */
export interface CatalogueDatabase {
  files: FilesTable;
  file_tags: FileTagsTable;
  objects: ObjectsTable;
  file_versions: FileVersionsTable;
  catalogue_meta: MetaTable;
  pending_deletes: PendingDeletesTable;
}

export interface FilesTable {
  id: string;
  tenant: string;
  owner: string;
  name: string;
  key: string | null;
  media_type: string;
  size: number | string;
  sha256: string | null;
  object_id: string;
  upload_id: string;
  storage_class: string;
  /** JSON text. */
  metadata: string;
  /** JSON text or null. */
  processing: string | null;
  current_version: number;
  created_at: string;
  finished_at: string;
  last_accessed_at: string | null;
  updated_at: string;
}

export interface FileTagsTable {
  file_id: string;
  tag: string;
}

export interface ObjectsTable {
  id: string;
  tenant: string;
  sha256: string | null;
  size: number | string;
  location: string;
  storage_class: string;
  refs: number;
  created_at: string;
}

export interface FileVersionsTable {
  file_id: string;
  version: number;
  upload_id: string;
  object_id: string;
  size: number | string;
  sha256: string | null;
  created_at: string;
  name: string;
  metadata: string;
  /** The upload token the version's upload was created with (null without one). */
  token_id: string | null;
  /** What the upload is charged against its owner's quota (null when nothing is). */
  charged_bytes: number | string | null;
}

export interface MetaTable {
  key: string;
  value: string;
}

/**
 * The durable to-delete list: clean-up owed by a committed deletion, written in the same transaction
 * that freed it, removed once done (see catalogue/pending.ts).
 */
export interface PendingDeletesTable {
  /** `bytes`: a storage location (both classes); `upload`: an upload's record, results, status and quota charge. */
  kind: string;
  ref: string;
  tenant: string;
  owner: string;
  charged_bytes: number | string | null;
  /** 1 when the upload's processing results and status go too (0 when a restored version still shows them). */
  results: number;
  created_at: string;
}
