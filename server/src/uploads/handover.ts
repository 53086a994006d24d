import { catalogueSharedByEveryNode } from '../config/config.js';
import { archivedRecord, ingestInputOf } from '../catalogue/records.js';
import type { Dropped, OwnerScope, Removed } from '../catalogue/types.js';
import type { AppContext } from '../context.js';
import type { UploadRecord } from '../records/types.js';
import { recordUploadUsage } from '../analytics/start.js';
import { uploadFinishedEvent } from '../webhooks/events.js';

/** Upper bound on records the one-time import and each sweep look at per batch, so memory stays flat. */
const IMPORT_BATCH = 500;

/** The catalogue's marker of the one-time import of records written before the catalogue existed. */
export const IMPORT_MARKER = 'import:records:v1';

/**
 * The hand-over of finished uploads from the upload records to the file catalogue (issue 14), and what
 * follows from it: the sweep that drives the rest, the one-time import, the end of handed-over records,
 * and the removal of a catalogued upload. Ingest is idempotent by upload id, so a node that dies between
 * the ingest and the record's `cataloguedAt` loses nothing and doubles nothing: the next sweep (or the
 * next load under lock) ingests again and finds the file already there.
 */
export class Handover {
  constructor(private readonly deps: AppContext) {}

  /** Whether a record is due for the hand-over: finished, its event recorded, not a partial, not yet catalogued. */
  static due(record: UploadRecord): boolean {
    return !!record.completedAt && !!record.eventRecordedAt && !record.cataloguedAt && !record.expiredAt && record.concat?.kind !== 'partial';
  }

  /**
   * Ingests a finished upload and marks its record (in memory: the caller saves it). A failure is logged
   * and left to the sweep; it never fails the upload.
   */
  async handOver(record: UploadRecord): Promise<boolean> {
    if (!Handover.due(record)) return false;
    try {
      const result = await this.deps.catalogue.ingest(ingestInputOf(record));
      await recordUploadUsage(this.deps, record, 'finished');
      // A sha256 known at hand-over that the tenant already stores: this upload's bytes are not needed.
      if (result.freed && catalogueSharedByEveryNode(this.deps.config)) {
        await this.deps.storage.remove(result.freed);
        if (result.created) {
          this.deps.metrics.deduplicated.inc({ when: 'hand-over' });
          this.deps.metrics.deduplicatedBytes.inc(result.file.size);
        }
      }
      // At most FILE_MAX_VERSIONS versions: the oldest go, with the bytes no other version or file uses.
      if (result.created && result.version > 1) await this.dropVersions(await this.deps.catalogue.pruneVersions(result.file.id, this.deps.config.dedup.maxVersions));
      // Before the record is marked: a node that dies in between emits it again on the next hand-over (recorded once per endpoint).
      await this.deps.webhooks.emit(uploadFinishedEvent(result.file, record));
      record.cataloguedAt = this.deps.now().toISOString();
      return true;
    } catch (err) {
      this.deps.logger.error('catalogue hand-over failed; the sweep will retry', { uploadId: record.id, err });
      return false;
    }
  }

  /**
   * The periodic part: hands over the finished records that are not catalogued yet, and deletes the
   * records whose grace after the hand-over has ended (Redis expires them by itself; the embedded file
   * records are deleted here).
   */
  async sweep(): Promise<{ catalogued: number; dropped: number }> {
    const { records, config } = this.deps;
    const now = this.deps.now().getTime();
    let catalogued = 0;
    let dropped = 0;
    for (const id of await records.due(now)) {
      const record = await records.get(id);
      if (!record) continue;
      if (Handover.due(record)) {
        if (await this.handOver(record)) {
          await records.set(id, record);
          catalogued++;
        }
      } else if (record.cataloguedAt && !record.expiredAt && Date.parse(record.cataloguedAt) + config.catalogueRecordGraceMs <= now) {
        await records.delete(id);
        dropped++;
      }
    }
    return { catalogued, dropped };
  }

  /**
   * Imports, once per catalogue (remembered by {@link IMPORT_MARKER}), every finished upload recorded
   * before the catalogue existed (Redis or `DATA_DIR/records`): each is handed over like a new one. Safe
   * to run on several nodes at once and to interrupt: ingest is idempotent and the marker is set last.
   */
  async importOnce(): Promise<number | undefined> {
    const { catalogue, records, logger } = this.deps;
    if (await catalogue.getMeta(IMPORT_MARKER)) return undefined;
    const ids = await records.list();
    let imported = 0;
    for (let i = 0; i < ids.length; i += IMPORT_BATCH) {
      for (const id of ids.slice(i, i + IMPORT_BATCH)) {
        const record = await records.get(id);
        if (!record || !Handover.due(record)) continue;
        if (await this.handOver(record)) {
          await records.set(id, record);
          imported++;
        }
      }
    }
    await catalogue.setMeta(IMPORT_MARKER, JSON.stringify({ at: this.deps.now().toISOString(), imported, node: this.deps.config.nodeName }));
    logger.info('finished uploads imported into the catalogue', { imported, records: ids.length });
    return imported;
  }

  /** A catalogued upload whose record is gone (or whose bytes moved), as a record and the key of its bytes. */
  async archived(id: string): Promise<{ record: UploadRecord; location: string } | undefined> {
    const found = await this.deps.catalogue.byUpload(id);
    return found && archivedRecord(found);
  }

  /**
   * After versions were dropped from the catalogue (pruned by FILE_MAX_VERSIONS, or deleted): the bytes
   * whose last reference went, then each dropped upload's processing results, status and record.
   */
  async dropVersions(dropped: Dropped): Promise<void> {
    for (const location of dropped.freed) {
      await this.deps.storage.remove(location);
      await this.deps.tiers.removeCold(location); // an older version's bytes may have moved to cold
    }
    for (const uploadId of dropped.uploads) await this.forgetUpload(uploadId);
  }

  /** A catalogued upload's processing results, status and (within its grace) record, with its quota charge. */
  private async forgetUpload(uploadId: string): Promise<void> {
    const { results, status, records } = this.deps;
    await results.remove(uploadId);
    await status.remove(uploadId);
    const record = await records.get(uploadId);
    if (record) await this.deps.security.parts.quotas.release(record);
    await records.delete(uploadId);
  }

  /**
   * Removes a catalogued file with every version: the rows, then the bytes whose last reference went,
   * then each version's processing results, status and record. Undefined when `scope` has no such file.
   */
  async removeFile(scope: OwnerScope, fileId: string): Promise<Removed | undefined> {
    const removed = await this.deps.catalogue.remove(scope, fileId);
    if (!removed) return undefined;
    const { storage, results, status, records } = this.deps;
    for (const location of removed.freed) {
      await storage.remove(location);
      await this.deps.tiers.removeCold(location);
    }
    for (const uploadId of removed.uploads) {
      await results.remove(uploadId);
      await status.remove(uploadId);
      // Within its grace the record still holds the quota charge: given back with it.
      const record = await records.get(uploadId);
      if (record) await this.deps.security.parts.quotas.release(record);
      await records.delete(uploadId);
    }
    this.deps.logger.info('file removed', { fileId, versions: removed.uploads.length, freed: removed.freed.length });
    return removed;
  }
}
