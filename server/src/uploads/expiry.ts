import { recordUploadUsage } from '../analytics/start.js';
import type { AppContext } from '../context.js';
import { tombstoneRetentionMs, type UploadRecord } from '../records/types.js';
import type { ConcatHost, Concatenation } from './concat.js';

/** What the expiry sweep needs of the uploads domain (uploads.ts) besides the concatenation. */
export interface ExpiryHost extends ConcatHost {
  isExpired(record: UploadRecord): boolean;
  nextExpiry(): string;
}

/**
 * The expiry sweep of unfinished uploads: their bytes go, a tombstone record stays so clients get 410,
 * and tombstones end after {@link tombstoneRetentionMs}. Part of the uploads domain (the only writer of
 * upload records); split from uploads.ts to keep it readable.
 */
export class ExpirySweep {
  constructor(
    private readonly deps: AppContext,
    private readonly host: ExpiryHost,
    private readonly concat: Concatenation,
  ) {}

  /**
   * Removes the bytes of expired unfinished uploads, keeping a tombstone record so clients get 410;
   * tombstones are dropped after {@link tombstoneRetentionMs}. Returns how many uploads were expired.
   */
  async sweepExpired(): Promise<number> {
    const { records, config, metrics, logger } = this.deps;
    const now = this.deps.now().getTime();
    let expired = 0;
    for (const id of await records.due(now)) {
      const record = await records.get(id);
      if (!record) continue;
      if (record.expiredAt) {
        if (Date.parse(record.expiredAt) + tombstoneRetentionMs(config.uploadExpiryMs) <= now) {
          // Once more for the status: a job that was still running at expiry may have written it since.
          await this.deps.status.remove(id);
          await records.delete(id);
        }
        continue;
      }
      if (record.concat?.kind === 'final' && !record.concat.assembled) {
        if (Date.parse(record.expiresAt ?? '') <= now) await this.recheckWaitingFinal(id);
        continue;
      }
      if (!this.host.isExpired(record)) continue;
      await this.host.withLock(id, AbortSignal.timeout(10_000), () => undefined, async () => {
        await this.host.removeContents(id);
        await this.deps.security.parts.quotas.release(record);
        record.expiredAt = new Date(now).toISOString();
        await this.host.save(record);
      });
      if (record.concat?.kind === 'partial') await this.concat.assembleWaitingFinals(id);
      expired++;
      await recordUploadUsage(this.deps, record, 'abandoned');
      metrics.uploadsExpired.inc();
      logger.info('upload expired', { uploadId: id });
    }
    return expired;
  }

  /**
   * A final upload past its own expiry lives as long as its partials can still finish (their writes
   * slide their expiry, not the final's): it is assembled if they all finished (a crash may have
   * skipped that), abandoned if one is gone, and otherwise looked at again one expiry period later.
   */
  private async recheckWaitingFinal(id: string): Promise<void> {
    await this.concat.tryAssemble(id);
    await this.host.withLock(id, AbortSignal.timeout(10_000), () => undefined, async () => {
      const record = await this.deps.records.get(id);
      if (!record || record.expiredAt || record.concat?.kind !== 'final' || record.concat.assembled) return;
      record.expiresAt = this.host.nextExpiry();
      await this.host.save(record);
    });
  }
}
