import type { MediaOutcome } from '@tus-edge/processors';
import type { Catalogue, CatalogueFile } from '../catalogue/types.js';
import type { UploadRecord, UploadRecordStore } from '../records/types.js';
import type { WebhookEvent } from './types.js';

/** Processor kinds that are the server's own housekeeping, not processing of the owner's upload: no event. */
const INTERNAL_KINDS: ReadonlySet<string> = new Set(['maintenance']);

/**
 * `upload.finished` of an upload handed over to the catalogue as `file`. Its id is derived from the
 * upload id alone, so every node and every retry of the hand-over names the same event.
 */
export function uploadFinishedEvent(file: CatalogueFile, record: UploadRecord): WebhookEvent {
  return {
    id: `upload.finished.${record.id}`,
    type: 'upload.finished',
    createdAt: record.completedAt ?? file.finishedAt,
    tenant: file.tenant,
    owner: file.owner,
    data: { uploadId: record.id, fileId: file.id, name: file.name, size: file.size, mediaType: file.mediaType },
  };
}

/** Where a processing outcome learns whose upload it was. */
export interface OwnerLookup {
  catalogue: Pick<Catalogue, 'byUpload'>;
  records: Pick<UploadRecordStore, 'get'>;
}

/**
 * `processing.done` / `processing.failed` of one job's outcome (in-process runtime, or the `MEDIA`
 * stream). The id is the outcome's (`<upload event id>:<kind>`), the same however often the outcome is
 * republished. The owner comes from the catalogue, or from the upload record while the upload is not
 * catalogued yet; an upload gone from both is nobody's (only operator endpoints get it). Null for the
 * server's internal kinds.
 */
export async function processingEvent(outcome: MediaOutcome, lookup: OwnerLookup): Promise<WebhookEvent | null> {
  const kind = outcome.data.processingType;
  if (INTERNAL_KINDS.has(kind)) return null;
  const uploadId = outcome.data.mediaId;
  const found = await lookup.catalogue.byUpload(uploadId);
  const record = found ? undefined : await lookup.records.get(uploadId);
  const scope = found ? { tenant: found.file.tenant, owner: found.file.owner } : record ? { tenant: record.tenant ?? '', owner: record.owner ?? '' } : { tenant: null, owner: null };
  const failed = outcome.event === 'media.failed';
  const reason = failed ? (outcome.data.reason ?? null) : null;
  // `media.failed` carries `CODE: message`.
  const errorCode = failed ? (outcome.data.code ?? (reason && /^([A-Z][A-Z0-9_]*):/.exec(reason)?.[1]) ?? null) : null;
  return {
    id: `processing.${outcome.id}`,
    type: failed ? 'processing.failed' : 'processing.done',
    createdAt: outcome.timestamp,
    ...scope,
    data: {
      uploadId,
      fileId: found?.file.id ?? null,
      kind,
      outcome: failed ? 'failed' : 'done',
      errorCode,
      reason,
      processingTimeMs: outcome.data.metrics.processingTimeMs,
      finishedAt: outcome.timestamp,
    },
  };
}
