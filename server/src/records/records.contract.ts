/**
 * The contract every upload-record store must pass (JSON files now, Redis later).
 */
import { describe, expect, it } from 'vitest';
import type { UploadRecord, UploadRecordStore } from './types.js';

const HOUR = 3_600_000;

const record = (id: string): UploadRecord => ({
  id,
  size: 10,
  metadata: { filename: 'a.txt', empty: null },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

/** `makeStore(expiryMs)`: an empty store for uploads that expire `expiryMs` after their last write. */
export function recordStoreContract(name: string, makeStore: (expiryMs: number) => Promise<UploadRecordStore>): void {
  describe(`UploadRecordStore contract: ${name}`, () => {
    it('stores, returns copies, lists and deletes', async () => {
      const s = await makeStore(HOUR);
      expect(await s.get('nope')).toBeUndefined();
      await s.set('r1', record('r1'));
      await s.set('r2', record('r2'));
      const got = await s.get('r1');
      expect(got).toEqual(record('r1'));
      got!.size = 99;
      expect((await s.get('r1'))!.size).toBe(10);
      expect((await s.list()).sort()).toEqual(['r1', 'r2']);
      await s.delete('r1');
      await s.delete('r1');
      expect(await s.get('r1')).toBeUndefined();
      expect(await s.list()).toEqual(['r2']);
    });

    it('overwrites a value whole', async () => {
      const s = await makeStore(HOUR);
      await s.set('r3', { ...record('r3'), completedAt: 'x' });
      await s.set('r3', record('r3'));
      expect((await s.get('r3'))!.completedAt).toBeUndefined();
    });

    it('names as due exactly the records the sweep must look at, as they change', async () => {
      const s = await makeStore(HOUR);
      const now = Date.parse('2030-01-01T12:00:00Z');
      const at = (ms: number) => new Date(now + ms).toISOString();
      await s.set('open-later', { ...record('open-later'), expiresAt: at(HOUR) });
      await s.set('open-expired', { ...record('open-expired'), expiresAt: at(-1) });
      await s.set('tomb-fresh', { ...record('tomb-fresh'), expiresAt: at(-HOUR), expiredAt: at(-HOUR / 2) });
      await s.set('tomb-old', { ...record('tomb-old'), expiresAt: at(-3 * HOUR), expiredAt: at(-2 * HOUR) });
      await s.set('done-unpublished', { ...record('done-unpublished'), completedAt: at(-5) });
      await s.set('done', { ...record('done'), completedAt: at(-5), eventRecordedAt: at(-4), cataloguedAt: at(-3) });
      await s.set('done-uncatalogued', { ...record('done-uncatalogued'), completedAt: at(-5), eventRecordedAt: at(-4) });
      await s.set('done-partial', { ...record('done-partial'), completedAt: at(-5), concat: { kind: 'partial' } });
      await s.set('deferred', record('deferred')); // no expiry at all
      expect((await s.due(now)).sort()).toEqual(['done-uncatalogued', 'done-unpublished', 'open-expired', 'tomb-old']);
      await s.set('done-unpublished', { ...record('done-unpublished'), completedAt: at(-5), eventRecordedAt: at(-1), cataloguedAt: at(-1) });
      await s.set('done-uncatalogued', { ...record('done-uncatalogued'), completedAt: at(-5), eventRecordedAt: at(-4), cataloguedAt: at(-1) });
      await s.set('open-expired', { ...record('open-expired'), expiresAt: at(HOUR) }); // slid by a write
      await s.delete('tomb-old');
      expect(await s.due(now)).toEqual([]);
      // Handed over to the catalogue: due once their grace (default an hour) has ended, to be deleted.
      expect((await s.due(now + HOUR)).sort()).toEqual(['done', 'done-uncatalogued', 'done-unpublished', 'open-expired', 'open-later', 'tomb-fresh']);
    });

    it('treats unsafe keys as absent on read', async () => {
      const s = await makeStore(HOUR);
      expect(await s.get('../../etc/passwd')).toBeUndefined();
    });
  });
}
