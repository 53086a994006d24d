/**
 * The contract every upload-record store must pass (JSON files now, Redis later).
 */
import { describe, expect, it } from 'vitest';
import type { UploadRecord, UploadRecordStore } from './types.js';

const record = (id: string): UploadRecord => ({
  id,
  size: 10,
  metadata: { filename: 'a.txt', empty: null },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

export function recordStoreContract(name: string, makeStore: () => Promise<UploadRecordStore>): void {
  describe(`UploadRecordStore contract: ${name}`, () => {
    it('stores, returns copies, lists and deletes', async () => {
      const s = await makeStore();
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
      const s = await makeStore();
      await s.set('r3', { ...record('r3'), completedAt: 'x' });
      await s.set('r3', record('r3'));
      expect((await s.get('r3'))!.completedAt).toBeUndefined();
    });

    it('treats unsafe keys as absent on read', async () => {
      const s = await makeStore();
      expect(await s.get('../../etc/passwd')).toBeUndefined();
    });
  });
}
