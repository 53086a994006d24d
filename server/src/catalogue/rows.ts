import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { FilesTable, FileVersionsTable, ObjectsTable } from './schema.js';
import type { CatalogueFile, CatalogueObject, FileVersion, StorageClass } from './types.js';

/** A new catalogue id (files, objects): 32 hex digits, not derived from the upload id. */
export function newId(): string {
  return randomUUID().replace(/-/g, '');
}

function json<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** A files row (and its tags) as the API shows it. */
export function toFile(row: Selectable<FilesTable>, tags: string[]): CatalogueFile {
  return {
    id: row.id,
    tenant: row.tenant,
    owner: row.owner,
    name: row.name,
    key: row.key,
    mediaType: row.media_type,
    size: Number(row.size),
    sha256: row.sha256,
    objectId: row.object_id,
    uploadId: row.upload_id,
    storageClass: row.storage_class as StorageClass,
    metadata: json(row.metadata, {}),
    processing: json(row.processing, null),
    tags: [...tags].sort(),
    currentVersion: Number(row.current_version),
    createdAt: row.created_at,
    finishedAt: row.finished_at,
    lastAccessedAt: row.last_accessed_at,
    updatedAt: row.updated_at,
  };
}

export function toVersion(row: Selectable<FileVersionsTable>): FileVersion {
  return {
    fileId: row.file_id,
    version: Number(row.version),
    uploadId: row.upload_id,
    objectId: row.object_id,
    size: Number(row.size),
    sha256: row.sha256,
    createdAt: row.created_at,
    name: row.name,
    metadata: json(row.metadata, {}),
    tokenId: row.token_id ?? null,
    chargedBytes: row.charged_bytes === null || row.charged_bytes === undefined ? null : Number(row.charged_bytes),
  };
}

export function toObject(row: Selectable<ObjectsTable>): CatalogueObject {
  return {
    id: row.id,
    tenant: row.tenant,
    sha256: row.sha256,
    size: Number(row.size),
    location: row.location,
    storageClass: row.storage_class as StorageClass,
    refs: Number(row.refs),
    createdAt: row.created_at,
  };
}

/** The opaque listing cursor: the last file's creation time and id. */
export function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

/** The position a cursor names; undefined when it is not one of ours. */
export function decodeCursor(cursor: string): { createdAt: string; id: string } | undefined {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') {
      return { createdAt: value[0], id: value[1] };
    }
  } catch {
    /* not ours */
  }
  return undefined;
}

/** A unique-constraint violation on either backend (PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_UNIQUE/PRIMARYKEY). */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** Tags as stored: trimmed, non-empty, at most 64 characters each, distinct, at most 32. */
export function normaliseTags(tags: readonly string[]): string[] {
  const out = new Set<string>();
  for (const raw of tags) {
    const tag = raw.trim();
    if (tag && tag.length <= 64) out.add(tag);
  }
  return [...out].slice(0, 32);
}
