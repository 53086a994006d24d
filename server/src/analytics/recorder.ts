import type { AttemptRecorder, JobAttempt } from '@tus-edge/processors';
import type { Catalogue } from '../catalogue/types.js';
import type { UploadRecordStore } from '../records/types.js';
import type { JobHistory, StoredAttempt } from './types.js';

/** Owners remembered per upload (jobs of one upload share one); the oldest are forgotten first. */
const OWNER_CACHE = 10_000;

export interface HistoryWriterDeps {
  history: JobHistory;
  records: Pick<UploadRecordStore, 'get'>;
  catalogue: Pick<Catalogue, 'byUpload'>;
}

/**
 * The server's side of the job history: takes attempts (from the in-process runtime as its
 * {@link AttemptRecorder}, or in batches from the pipeline's consumer), fills in the upload's tenant
 * and owner — from its record while it lives, else from the catalogue — and writes them. An upload
 * that is not found (removed meanwhile, a maintenance slot) belongs to no owner (`''`): only the
 * operator sees it.
 */
export class HistoryWriter implements AttemptRecorder {
  private readonly owners = new Map<string, { tenant: string; owner: string }>();

  constructor(private readonly deps: HistoryWriterDeps) {}

  record(attempt: JobAttempt): Promise<void> {
    return this.write([attempt]);
  }

  /** Writes a batch of attempts (idempotent by attempt id). */
  async write(attempts: JobAttempt[]): Promise<void> {
    if (attempts.length === 0) return;
    const stored: StoredAttempt[] = [];
    for (const a of attempts) stored.push({ ...a, ...(await this.ownerOf(a.uploadId)) });
    await this.deps.history.recordAttempts(stored);
  }

  private async ownerOf(uploadId: string): Promise<{ tenant: string; owner: string }> {
    const known = this.owners.get(uploadId);
    if (known) return known;
    const record = await this.deps.records.get(uploadId);
    let found: { tenant: string; owner: string } | undefined = record ? { tenant: record.tenant ?? '', owner: record.owner ?? '' } : undefined;
    if (!found) {
      const file = (await this.deps.catalogue.byUpload(uploadId))?.file;
      if (file) found = { tenant: file.tenant, owner: file.owner };
    }
    if (!found) return { tenant: '', owner: '' };
    if (this.owners.size >= OWNER_CACHE) this.owners.delete(this.owners.keys().next().value!);
    this.owners.set(uploadId, found);
    return found;
  }
}
