/**
 * Between upload records and the catalogue: what a finished upload's record becomes when it is handed
 * over, and the record a catalogued upload is answered with once its own record is gone.
 */
import type { UploadRecord, UploadRecordStore } from '../records/types.js';
import type { Catalogue, IngestInput, UploadInCatalogue } from './types.js';

const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i;

/** The declared media type of an upload (metadata `filetype`, else `contentType` or `type`), when well-formed. */
export function declaredMediaType(metadata: UploadRecord['metadata']): string | null {
  const declared = metadata.filetype ?? metadata.contentType ?? metadata.type;
  return declared && MIME.test(declared) ? declared.toLowerCase() : null;
}

/** Tags from metadata `tags` (comma-separated). */
export function tagsOf(metadata: UploadRecord['metadata']): string[] {
  return (metadata.tags ?? '').split(',').map((t) => t.trim()).filter(Boolean);
}

/**
 * The hand-over of a finished upload: its name (metadata `filename`, else `name`, else the upload id),
 * tags (`tags`), logical key (`key`), declared media type, owner and tenant (`''` when auth is off).
 */
export function ingestInputOf(record: UploadRecord): IngestInput {
  const { metadata } = record;
  const completedAt = record.completedAt ?? record.updatedAt;
  return {
    uploadId: record.id,
    tenant: record.tenant ?? '',
    owner: record.owner ?? '',
    name: metadata.filename || metadata.name || record.id,
    key: metadata.key || null,
    mediaType: declaredMediaType(metadata),
    size: record.size ?? 0,
    // Known at finish when it was cheap (uploads/content-hash.ts): the hand-over deduplicates at once.
    sha256: record.sha256 ?? null,
    metadata,
    tags: tagsOf(metadata),
    // Kept past the record's end: the token still reaches the upload, a deletion gives the charge back.
    tokenId: record.tokenId ?? null,
    chargedBytes: record.charged?.bytes ?? null,
    createdAt: record.createdAt,
    finishedAt: completedAt,
  };
}

/**
 * The record of a catalogued upload whose own record is gone (expired after the hand-over), so tus
 * HEAD/GET and the upload API answer as before: finished, its size, metadata, owner and tenant.
 * `location` is where its bytes are now (another upload's, once deduplicated).
 */
export function archivedRecord(found: UploadInCatalogue): { record: UploadRecord; location: string } {
  const { file, version, object } = found;
  const at = version.createdAt;
  const record: UploadRecord = {
    id: version.uploadId,
    size: version.size,
    metadata: version.metadata,
    createdAt: at,
    updatedAt: at,
    completedAt: at,
    eventRecordedAt: at,
    cataloguedAt: at,
    ...(file.owner ? { owner: file.owner } : {}),
    ...(file.tenant ? { tenant: file.tenant } : {}),
    // The upload token it was created with still reaches it (auth/identity.ts compares the token id).
    ...(version.tokenId ? { tokenId: version.tokenId } : {}),
  };
  return { record, location: object.location };
}

/**
 * An upload's record, or, once it ended after the hand-over, the record its catalogue entry answers
 * with: what routes that only read an upload use, so they keep answering after the record's grace.
 */
export async function findRecord(records: Pick<UploadRecordStore, 'get'>, catalogue: Pick<Catalogue, 'byUpload'>, id: string): Promise<UploadRecord | undefined> {
  const record = await records.get(id);
  if (record) return record;
  const found = await catalogue.byUpload(id);
  return found && archivedRecord(found).record;
}
