import type { PendingDelete } from '../catalogue/types.js';
import type { AppContext } from '../context.js';
import type { UploadRecord } from '../records/types.js';

/** Entries a drain takes per round (memory stays flat). */
const DRAIN_BATCH = 200;

/**
 * Does the clean-up the catalogue's durable to-delete list holds (catalogue/pending.ts): the bytes of
 * objects whose last reference went (both storage classes), and for each removed upload its record,
 * its quota charge and its processing results and status. The node that committed a deletion runs its
 * own entries at once ({@link run}); what a killed node left is finished by {@link drain}, which the
 * hand-over sweep and the maintenance job call on every node. Every step is idempotent but the return
 * of a quota charge, which only the drain that takes the entry off the list does; an entry leaves the
 * list only once the rest of its clean-up is done.
 */
export class DeleteDrain {
  constructor(private readonly deps: AppContext) {}

  /** Cleans up `items` (just committed); one that fails stays listed for the next drain. Returns how many were done. */
  async run(items: readonly PendingDelete[]): Promise<number> {
    let done = 0;
    for (const item of items) {
      try {
        await this.one(item);
        done++;
      } catch (err) {
        this.deps.logger.warn('clean-up after a deletion failed; the next drain retries it', { kind: item.kind, ref: item.ref, err: (err as Error).message });
      }
    }
    return done;
  }

  /** Drains the whole list (entries left by killed nodes, or failed before), batch by batch; returns how many were done. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const batch = await this.deps.catalogue.pendingDeletes(DRAIN_BATCH);
      if (batch.length === 0) return total;
      const done = await this.run(batch);
      total += done;
      // Some failed (the storage is down): the next drain tries them again.
      if (done < batch.length) return total;
    }
  }

  /**
   * One entry. Every step may run twice (a drain on another node, a retry after a kill) except giving
   * the quota charge back: that follows taking the entry off the list, and only the drain that took it
   * gives it back (a kill in between loses that charge's return rather than giving it twice).
   */
  private async one(item: PendingDelete): Promise<void> {
    const { storage, tiers, records, results, status, catalogue } = this.deps;
    if (item.kind === 'bytes') {
      await storage.remove(item.ref);
      await tiers.removeCold(item.ref); // the bytes may have moved to cold
      await catalogue.deleteDone(item);
      return;
    }
    // The quota charge: the record's within its grace, else the catalogue's copy of it (the same value).
    const record = await records.get(item.ref);
    const charged = record?.charged ?? (item.chargedBytes !== null ? { bytes: item.chargedBytes, open: false } : undefined);
    if (record) await records.delete(item.ref);
    if (item.results) {
      await results.remove(item.ref);
      await status.remove(item.ref);
    }
    const took = await catalogue.deleteDone(item);
    // Not when a restored version still shows the upload (`results` false): its charge moved to that version.
    if (took && charged && item.owner && item.results) {
      const owed: UploadRecord = {
        id: item.ref, metadata: {}, createdAt: '', updatedAt: '', owner: record?.owner ?? item.owner,
        ...((record?.tenant ?? item.tenant) ? { tenant: record?.tenant ?? item.tenant } : {}), charged,
      };
      await this.deps.security.parts.quotas.release(owed);
    }
  }
}
