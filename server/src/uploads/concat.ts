import type { RequestRelease } from '@tus/server';
import type { AppContext } from '../context.js';
import type { UploadRecord } from '../records/types.js';

/** What the concatenation needs of the uploads domain (uploads.ts): its lock, finish and removal steps, and record writes. */
export interface ConcatHost {
  withLock<T>(id: string, signal: AbortSignal, onRelease: RequestRelease, fn: () => Promise<T>): Promise<T>;
  finish(record: UploadRecord): Promise<void>;
  removeContents(id: string): Promise<void>;
  save(record: UploadRecord): Promise<void>;
}

/**
 * The concatenation extension's assembly: final uploads wait for their partials (links keyed by the
 * partial's id), and are concatenated by the first caller that sees every partial finished. Part of the
 * uploads domain (the only writer of upload records); split from uploads.ts to keep it readable.
 */
export class Concatenation {
  constructor(
    private readonly deps: AppContext,
    private readonly host: ConcatHost,
  ) {}

  /** Records that `finalId` waits for each unfinished partial in `partIds`. */
  async linkFinal(finalId: string, partIds: string[]): Promise<void> {
    for (const partId of new Set(partIds)) {
      await this.host.withLock(`link-${partId}`, AbortSignal.timeout(10_000), () => undefined, async () => {
        const finals = (await this.deps.links.get(partId)) ?? [];
        if (!finals.includes(finalId)) await this.deps.links.set(partId, [...finals, finalId]);
      });
    }
  }

  /** A partial finished or went away: each final upload waiting for it tries to assemble (or is abandoned). */
  async assembleWaitingFinals(partId: string): Promise<void> {
    const finals = await this.host.withLock(`link-${partId}`, AbortSignal.timeout(10_000), () => undefined, async () => {
      const list = (await this.deps.links.get(partId)) ?? [];
      await this.deps.links.delete(partId);
      return list;
    });
    for (const finalId of finals) await this.tryAssemble(finalId);
  }

  /**
   * Concatenates a final upload once every partial is finished. Safe to call any number of times
   * from any request: the first caller that sees all partials finished assembles, others return.
   * A final upload one of whose partials was terminated or expired can never be assembled: it is
   * turned into a tombstone at once (410), instead of answering "not assembled yet" until it expires.
   */
  async tryAssemble(finalId: string): Promise<void> {
    await this.host.withLock(finalId, AbortSignal.timeout(30_000), () => undefined, async () => {
      const record = await this.deps.records.get(finalId);
      if (record?.concat?.kind !== 'final' || record.concat.assembled || record.expiredAt) return;
      const parts = await Promise.all(record.concat.parts.map((p) => this.deps.records.get(p)));
      if (parts.some((p) => !p || p.expiredAt)) {
        await this.host.removeContents(finalId);
        await this.deps.security.parts.quotas.release(record);
        record.expiredAt = this.deps.now().toISOString();
        await this.host.save(record);
        this.deps.logger.info('final upload abandoned: one of its partial uploads is gone', { uploadId: finalId });
        return;
      }
      if (parts.some((p) => !p?.completedAt)) return;
      await this.deps.storage.concatenate(finalId, record.concat.parts);
      record.size = parts.reduce((sum, p) => sum + (p?.size ?? 0), 0);
      record.concat.assembled = true;
      await this.host.finish(record);
    });
  }
}
