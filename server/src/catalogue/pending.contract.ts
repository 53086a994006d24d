/**
 * The durable to-delete list, what the catalogue keeps of an upload past its record (token, quota
 * charge), and the catalogue without dedup (not shared by every node): run by every backend (SQLite
 * under a temp dir, real PostgreSQL) beside `catalogue.contract.ts`. `make` returns a migrated, empty catalogue.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Catalogue, IngestInput } from './types.js';

let seq = 0;
const SHA = 'c'.repeat(64);
const scope = { tenant: 't1', owner: 'alice' };

function input(overrides: Partial<IngestInput> = {}): IngestInput {
  const id = `pd${Date.now().toString(36)}${(seq++).toString(36)}`;
  const now = new Date(Date.now() + seq).toISOString();
  return {
    uploadId: id, ...scope, name: `${id}.bin`, key: null, mediaType: 'video/mp4', size: 100, sha256: null,
    metadata: { filename: `${id}.bin` }, tags: [], createdAt: now, finishedAt: now, ...overrides,
  };
}

export function pendingContract(name: string, make: (options?: { dedup?: boolean }) => Promise<Catalogue>): void {
  describe(`${name}: to-delete list, tokens and charges`, () => {
    let catalogue: Catalogue | undefined;
    const open = async (options?: { dedup?: boolean }) => (catalogue = await make(options));
    afterEach(async () => {
      await catalogue?.close();
      catalogue = undefined;
    });

    it('keeps the token id and quota charge of each version past the record', async () => {
      const c = await open();
      const a = await c.ingest(input({ tokenId: 'tok-1', chargedBytes: 100 }));
      const b = await c.ingest(input());
      expect((await c.byUpload(a.file.uploadId))?.version).toMatchObject({ tokenId: 'tok-1', chargedBytes: 100 });
      expect((await c.byUpload(b.file.uploadId))?.version).toMatchObject({ tokenId: null, chargedBytes: null });
    });

    it('a file removal lists its freed bytes and its uploads in the same commit; done entries leave the list', async () => {
      const c = await open();
      const shared = await c.ingest(input({ sha256: SHA, chargedBytes: 100 }));
      const dup = await c.ingest(input({ sha256: SHA, chargedBytes: 100 }));
      // The duplicate's own bytes were listed when it was pointed at the stored object.
      expect(await c.pendingDeletes(10)).toEqual([{ kind: 'bytes', ref: dup.file.uploadId, tenant: 't1' }]);
      await c.deleteDone({ kind: 'bytes', ref: dup.file.uploadId });

      // The object is still referenced by the duplicate: only the upload is owed, not the bytes.
      const first = (await c.remove(scope, shared.file.id))!;
      expect(first.freed).toEqual([]);
      expect(first.pending).toEqual([{ kind: 'upload', ref: shared.file.uploadId, tenant: 't1', owner: 'alice', chargedBytes: 100, results: true }]);
      // The last reference goes: its bytes (the first upload's location) are owed too.
      const second = (await c.remove(scope, dup.file.id))!;
      expect(second.freed).toEqual([shared.file.uploadId]);
      const listed = await c.pendingDeletes(10);
      expect(listed).toHaveLength(3);
      expect(listed).toEqual(expect.arrayContaining([
        { kind: 'bytes', ref: shared.file.uploadId, tenant: 't1' },
        { kind: 'upload', ref: dup.file.uploadId, tenant: 't1', owner: 'alice', chargedBytes: 100, results: true },
      ]));
      expect(await c.pendingDeletes(1)).toHaveLength(1);
      for (const item of listed) expect(await c.deleteDone(item)).toBe(true);
      expect(await c.pendingDeletes(10)).toEqual([]);
      // Done twice (another drain took it first): harmless, and said so.
      expect(await c.deleteDone(listed[0]!)).toBe(false);
    });

    it('pruned and deleted versions list what they free', async () => {
      const c = await open();
      const v1 = await c.ingest(input({ key: 'doc', chargedBytes: 10 }));
      const v2 = await c.ingest(input({ key: 'doc', chargedBytes: 20 }));
      await c.ingest(input({ key: 'doc' }));
      const pruned = await c.pruneVersions(v1.file.id, 2);
      expect(pruned.freed).toEqual([v1.file.uploadId]);
      expect(pruned.pending).toEqual([
        { kind: 'bytes', ref: v1.file.uploadId, tenant: 't1' },
        { kind: 'upload', ref: v1.file.uploadId, tenant: 't1', owner: 'alice', chargedBytes: 10, results: true },
      ]);
      const removed = await c.removeVersion(scope, v1.file.id, 2);
      expect(removed !== 'current' && removed?.pending.map((p) => [p.kind, p.ref])).toEqual([['bytes', v2.file.uploadId], ['upload', v2.file.uploadId]]);
      expect(await c.pendingDeletes(10)).toHaveLength(4);
    });

    it('a version dropped while a restored one still shows it hands its quota charge to that one, not back', async () => {
      const c = await open();
      const v1 = await c.ingest(input({ key: 'kept', chargedBytes: 100 }));
      await c.ingest(input({ key: 'kept', chargedBytes: 50 }));
      await c.restore(scope, v1.file.id, 1);
      const pruned = await c.pruneVersions(v1.file.id, 1);
      expect(pruned.pending.filter((p) => p.kind === 'upload')).toEqual(expect.arrayContaining([
        { kind: 'upload', ref: v1.file.uploadId, tenant: 't1', owner: 'alice', chargedBytes: null, results: false },
        expect.objectContaining({ chargedBytes: 50, results: true }),
      ]));
      expect((await c.byUpload(`${v1.file.uploadId}.r3`))?.version.chargedBytes).toBe(100);
    });

    it('without dedup (a catalogue not shared by every node) the same bytes stay two objects and nothing is freed', async () => {
      const c = await open({ dedup: false });
      const a = await c.ingest(input({ sha256: SHA }));
      const b = await c.ingest(input({ sha256: SHA }));
      expect(b.freed).toBeUndefined();
      expect(b.file.objectId).not.toBe(a.file.objectId);
      expect(b.file.sha256).toBe(SHA);
      expect(await c.findContent('t1', SHA)).toBeUndefined();
      const late = await c.ingest(input());
      expect((await c.setContent(late.file.uploadId, SHA, 'video/webm'))?.freed).toBeUndefined();
      expect((await c.byUpload(late.file.uploadId))?.version.sha256).toBe(SHA);
      expect(await c.usage({ tenant: 't1' })).toMatchObject({ files: 3, bytesStored: 300, bytesDeduplicated: 0 });
      expect(await c.pendingDeletes(10)).toEqual([]);
    });
  });
}
