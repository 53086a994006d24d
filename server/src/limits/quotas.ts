import type { SecurityConfig } from '../config/security.js';
import { tusError } from '../errors.js';
import type { UploadRecord } from '../records/types.js';
import { ownerKey, type Usage, type UsageStore } from './usage.js';

/**
 * Per-owner quotas (`QUOTA_BYTES` stored bytes, `QUOTA_UPLOADS` unfinished uploads). An upload is
 * charged at creation (its length, or nothing while deferred, and one open upload), again when a
 * deferred length is declared, turns "not open" when it finishes, and gives everything back when it is
 * terminated or expires. What was charged is kept in the record (`charged`), so a release gives back
 * exactly that, once. Uploads without an owner (auth off) are not counted, and nothing is counted
 * while neither quota is set (no counter write per creation): usage counts the uploads created while a
 * quota is set.
 */
export class Quotas {
  constructor(
    private readonly config: SecurityConfig['quotas'],
    private readonly usage: UsageStore,
  ) {}

  /** Whether any quota is set (else nothing is counted). */
  get enabled(): boolean {
    return this.config.bytes > 0 || this.config.uploads > 0;
  }

  /** Where `owner` stands, with the limits (0 = unlimited); `tracked` is false while no quota is set. */
  async of(owner: string, tenant: string | undefined): Promise<{ usage: Usage; limits: Usage; tracked: boolean }> {
    return { usage: await this.usage.get(ownerKey(owner, tenant)), limits: { ...this.config }, tracked: this.enabled };
  }

  /** Charges a new upload (length if known, and one open upload) before it is stored; 413/403 when over. */
  async charge(record: UploadRecord): Promise<void> {
    if (record.owner === undefined || !this.enabled) return;
    const bytes = record.size ?? 0;
    await this.add(record, { bytes, uploads: 1 }, true);
    record.charged = { bytes, open: true };
  }

  /** Charges a length declared later (deferred length); 413 when over. */
  async declare(record: UploadRecord, length: number): Promise<void> {
    if (record.owner === undefined || !record.charged) return;
    const extra = length - record.charged.bytes;
    if (extra > 0) await this.add(record, { bytes: extra, uploads: 0 }, true);
    record.charged.bytes = Math.max(record.charged.bytes, length);
  }

  /** Undoes {@link declare} when the write that declared the length was refused. */
  async undeclare(record: UploadRecord, previousBytes: number): Promise<void> {
    if (record.owner === undefined || !record.charged) return;
    const extra = record.charged.bytes - previousBytes;
    if (extra > 0) await this.add(record, { bytes: -extra, uploads: 0 }, false);
    record.charged.bytes = previousBytes;
  }

  /** The upload finished: no longer open; its bytes stay charged (a final upload's size is known only now). */
  async finished(record: UploadRecord): Promise<void> {
    if (record.owner === undefined || !record.charged?.open) return;
    const extra = Math.max(0, (record.size ?? 0) - record.charged.bytes);
    await this.add(record, { bytes: extra, uploads: -1 }, false);
    record.charged = { bytes: record.charged.bytes + extra, open: false };
  }

  /** The upload was terminated or expired: everything it was charged is given back (once). */
  async release(record: UploadRecord): Promise<void> {
    if (record.owner === undefined || !record.charged) return;
    const { bytes, open } = record.charged;
    delete record.charged;
    await this.add(record, { bytes: -bytes, uploads: open ? -1 : 0 }, false);
  }

  private async add(record: UploadRecord, delta: Usage, check: boolean): Promise<void> {
    const { ok, usage } = await this.usage.add(ownerKey(record.owner!, record.tenant), delta, check ? this.config : undefined);
    if (ok) return;
    if (delta.uploads > 0 && this.config.uploads > 0 && usage.uploads + delta.uploads > this.config.uploads) {
      throw tusError('QUOTA_UPLOADS_EXCEEDED', `${usage.uploads} of ${this.config.uploads}`);
    }
    throw tusError('QUOTA_BYTES_EXCEEDED', `${usage.bytes} + ${delta.bytes} > ${this.config.bytes}`);
  }
}
