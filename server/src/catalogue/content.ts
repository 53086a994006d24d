import type { ProcessingStatus, StatusStore } from '@tus-edge/processors';
import { catalogueSharedByEveryNode, type Config } from '../config/config.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { UploadStorage, UploadLocation } from '../storage/types.js';
import type { UploadRecord } from '../records/types.js';
import type { Catalogue, ProcessingSummary } from './types.js';

/** The upload whose processing status describes a version: a restored version (`<id>.r<n>`) was processed as `<id>`. */
export function processedAs(uploadId: string): string {
  return uploadId.replace(/\.r\d+$/, '');
}

/**
 * Where the completion event of a finished upload sends the processors, and whose results they reuse:
 * when the tenant already stores these bytes (the sha256 was known at finish), the shared object's
 * location and its upload (`reuseFrom`), so no job runs ffmpeg or OpenAI again and no job reads bytes
 * that dedup is about to remove. Nothing when the content is new or the sha256 is not known yet.
 */
export async function reuseHint(
  catalogue: Pick<Catalogue, 'findContent'>, storage: Pick<UploadStorage, 'location'>, record: UploadRecord,
): Promise<{ location: UploadLocation; reuseFrom: string } | undefined> {
  if (!record.sha256 || record.concat?.kind === 'partial') return undefined;
  const object = await catalogue.findContent(record.tenant ?? '', record.sha256);
  if (!object || object.location === record.id || object.size !== (record.size ?? 0)) return undefined;
  return { location: storage.location(object.location), reuseFrom: processedAs(object.location) };
}

export interface ContentDeps {
  /** Counts deduplications (absent in unit tests). */
  metrics?: Pick<Metrics, 'deduplicated' | 'deduplicatedBytes'>;
  catalogue: Catalogue;
  status: StatusStore;
  storage: UploadStorage;
  logger: Logger;
  /** Absent in unit tests: the catalogue is then taken as shared by every node (see catalogueSharedByEveryNode). */
  config?: Pick<Config, 'catalogue' | 'coordination'>;
  /**
   * Told every status of a catalogued upload seen here, before its summary is recorded (webhooks: job
   * outcomes of workers that report nowhere else). Absent in unit tests.
   */
  webhooks?: { fromStatus(status: ProcessingStatus): Promise<void> };
}

/**
 * Carries what the processors learn about a catalogued upload into the catalogue: the fingerprint's
 * sha256 and sniffed media type (`setContent`: dedup for uploads whose sha256 was not known at finish;
 * bytes left unreferenced are deleted), and, once every job is over, the file's processing summary.
 * Driven by a status subscription per file just handed over ({@link follow}) and by the periodic sweep
 * ({@link sweep}) for what a restart or a lost notification left; both are idempotent.
 */
export class ContentFollower {
  private readonly following = new Map<string, () => Promise<void>>();

  constructor(
    private readonly deps: ContentDeps,
    /** Most uploads followed by subscription at once; the rest wait for the sweep. */
    private readonly maxFollowed = 1000,
  ) {}

  /** Follows the processing of a version just handed over, until its summary is recorded. */
  async follow(uploadId: string): Promise<void> {
    if (this.following.has(uploadId) || this.following.size >= this.maxFollowed) return;
    const statusId = processedAs(uploadId);
    this.following.set(uploadId, async () => undefined);
    try {
      const unsubscribe = await this.deps.status.subscribe(statusId, (status) => void this.onStatus(uploadId, status));
      this.following.set(uploadId, unsubscribe);
      // Processing that takes longer (or never comes: no runtime) is left to the sweep.
      setTimeout(() => void this.stop(uploadId), FOLLOW_FOR_MS).unref();
      if (await this.apply(uploadId)) await this.stop(uploadId);
    } catch (err) {
      this.following.delete(uploadId);
      this.deps.logger.warn('processing status not followed; the sweep will apply it', { uploadId, err: (err as Error).message });
    }
  }

  private async onStatus(uploadId: string, status: ProcessingStatus): Promise<void> {
    try {
      if (await this.apply(uploadId, status)) await this.stop(uploadId);
    } catch (err) {
      this.deps.logger.warn('processing status not applied to the catalogue; the sweep will', { uploadId, err: (err as Error).message });
    }
  }

  private async stop(uploadId: string): Promise<void> {
    const unsubscribe = this.following.get(uploadId);
    this.following.delete(uploadId);
    await unsubscribe?.();
  }

  /**
   * Applies the status of `uploadId`'s processing to its catalogue entry. Returns true once there is
   * nothing more to apply (summary recorded, or the upload is not catalogued / has no status).
   */
  async apply(uploadId: string, known?: ProcessingStatus): Promise<boolean> {
    const { catalogue, storage, logger } = this.deps;
    const status = known ?? (await this.deps.status.get(processedAs(uploadId)));
    const entry = await catalogue.byUpload(uploadId);
    if (!entry) return true;
    if (!status) {
      // Never processed (no runtime took it) or its status was pruned: recorded as such after a while, so
      // the sweep does not look at it forever.
      if (Date.parse(entry.file.finishedAt) > Date.now() - NO_STATUS_GIVE_UP_MS) return false;
      await catalogue.update({ tenant: entry.file.tenant, owner: entry.file.owner }, entry.file.id, { processing: { state: 'unknown' } });
      return true;
    }
    // Before the summary: a failure here leaves the upload to the sweep, which tells it again.
    await this.deps.webhooks?.fromStatus(status);
    const fp = status.jobs.fingerprint;
    const sha256 = fp?.state === 'done' && typeof fp.result?.sha256 === 'string' ? fp.result.sha256 : undefined;
    const mime = typeof fp?.result?.mime === 'string' && fp.result.mime !== 'application/octet-stream' ? fp.result.mime : null;
    if (sha256 && (entry.version.sha256 !== sha256 || (mime && entry.file.mediaType !== mime))) {
      const set = await catalogue.setContent(uploadId, sha256, mime);
      if (set?.freed && (!this.deps.config || catalogueSharedByEveryNode(this.deps.config))) {
        await storage.remove(set.freed);
        if (entry.version.sha256 !== sha256) {
          this.deps.metrics?.deduplicated.inc({ when: 'fingerprint' });
          this.deps.metrics?.deduplicatedBytes.inc(entry.version.size);
        }
        logger.info('duplicate content stored once', { uploadId, freed: set.freed, objectId: set.file.objectId });
      }
    }
    if (!TERMINAL.has(status.state) || Object.values(status.jobs).some((j) => !TERMINAL.has(j.state))) return false;
    const current = entry.file.uploadId === uploadId;
    if (current) await catalogue.update({ tenant: entry.file.tenant, owner: entry.file.owner }, entry.file.id, { processing: summaryOf(status) });
    return true;
  }

  /** Applies what is due for files handed over before `finishedBefore` whose summary is not recorded; returns how many were completed. */
  async sweep(finishedBefore: Date, limit = 500): Promise<number> {
    let done = 0;
    for (const { uploadId } of await this.deps.catalogue.unprocessed(finishedBefore.toISOString(), limit)) {
      // Followed ones too: a status written by a worker in another process on the same DATA_DIR (the
      // file status store) notifies no subscriber here. Applying twice is harmless.
      try {
        if (await this.apply(uploadId)) {
          done++;
          if (this.following.has(uploadId)) await this.stop(uploadId);
        }
      } catch (err) {
        this.deps.logger.warn('processing status not applied to the catalogue', { uploadId, err: (err as Error).message });
      }
    }
    return done;
  }

  /** Stops every subscription. */
  async close(): Promise<void> {
    await Promise.all([...this.following.keys()].map((id) => this.stop(id)));
  }
}

/** How long one upload's processing is followed by subscription before only the sweep looks at it. */
const FOLLOW_FOR_MS = 15 * 60_000;

/** A file without any processing status this long after it finished is recorded as `unknown`. */
const NO_STATUS_GIVE_UP_MS = 3_600_000;

const TERMINAL: ReadonlySet<string> = new Set(['done', 'failed', 'skipped']);

/** The processing summary kept with a file: the aggregate, and each job's state (reused or not, why it failed). */
export function summaryOf(status: ProcessingStatus): ProcessingSummary {
  const jobs: Record<string, Record<string, unknown>> = {};
  for (const [kind, job] of Object.entries(status.jobs)) {
    jobs[kind] = { state: job.state, ...(job.reusedFrom && { reusedFrom: job.reusedFrom }), ...(job.reason && { reason: job.reason }) };
  }
  return { state: status.state, ...(status.reason && { reason: status.reason }), jobs };
}
