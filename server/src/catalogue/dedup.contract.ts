/**
 * The dedup and versions part of the catalogue contract: run by every backend (SQLite under a temp
 * dir, real PostgreSQL) beside `catalogue.contract.ts`. `make` returns a migrated, empty catalogue.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Catalogue, IngestInput } from './types.js';

let seq = 0;
const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

function input(overrides: Partial<IngestInput> = {}): IngestInput {
  const id = `up${Date.now().toString(36)}${(seq++).toString(36)}`;
  const now = new Date(Date.now() + seq).toISOString();
  return {
    uploadId: id, tenant: 't1', owner: 'alice', name: `${id}.bin`, key: null, mediaType: 'video/mp4', size: 100,
    sha256: null, metadata: { filename: `${id}.bin` }, tags: ['x'], createdAt: now, finishedAt: now, ...overrides,
  };
}

export function dedupContract(name: string, make: () => Promise<Catalogue>): void {
  describe(`${name}: dedup and versions`, () => {
    let catalogue: Catalogue | undefined;
    const open = async () => (catalogue = await make());
    afterEach(async () => {
      await catalogue?.close();
      catalogue = undefined;
    });
    const scope = { tenant: 't1', owner: 'alice' };

    it('the same bytes twice in a tenant: one object with two references, the second upload\'s bytes freed, usage counts them once', async () => {
      const c = await open();
      const a = await c.ingest(input({ sha256: SHA_A }));
      const b = await c.ingest(input({ sha256: SHA_A, owner: 'bob' }));
      expect(a.freed).toBeUndefined();
      expect(b.freed).toBe(b.file.uploadId);
      expect(b.file.objectId).toBe(a.file.objectId);
      expect((await c.locate(b.file.uploadId))?.object).toMatchObject({ id: a.file.objectId, location: a.file.uploadId, refs: 2 });
      const tenant = await c.usage({ tenant: 't1' });
      expect(tenant).toMatchObject({ files: 2, bytesStored: 100, bytesDeduplicated: 100 });
      // Another tenant never shares objects.
      const other = await c.ingest(input({ sha256: SHA_A, tenant: 't2' }));
      expect(other.freed).toBeUndefined();
      expect(other.file.objectId).not.toBe(a.file.objectId);
      expect(await c.findContent('t1', SHA_A)).toMatchObject({ id: a.file.objectId });
      expect(await c.findContent('t1', SHA_B)).toBeUndefined();
    });

    it('ingesting a duplicate again (a node died before removing its bytes) frees them again and counts no second reference', async () => {
      const c = await open();
      const a = await c.ingest(input({ sha256: SHA_A }));
      const dup = input({ sha256: SHA_A });
      const first = await c.ingest(dup);
      const again = await c.ingest(dup);
      expect(again).toMatchObject({ created: false, freed: dup.uploadId });
      expect(first.freed).toBe(dup.uploadId);
      expect((await c.locate(a.file.uploadId))?.object.refs).toBe(2);
    });

    it('identical uploads handed over at once end with one object', async () => {
      const c = await open();
      const inputs = Array.from({ length: 6 }, () => input({ sha256: SHA_B }));
      const results = await Promise.all(inputs.map((i) => c.ingest(i)));
      const objects = new Set(results.map((r) => r.file.objectId));
      expect(objects.size).toBe(1);
      expect(results.filter((r) => r.freed === undefined)).toHaveLength(1);
      expect((await c.findContent('t1', SHA_B))?.refs).toBe(6);
    });

    it('deleting files frees the object with its last reference only', async () => {
      const c = await open();
      const a = await c.ingest(input({ sha256: SHA_A }));
      const b = await c.ingest(input({ sha256: SHA_A }));
      const first = await c.remove(scope, a.file.id);
      expect(first?.freed).toEqual([]);
      expect((await c.locate(b.file.uploadId))?.object).toMatchObject({ location: a.file.uploadId, refs: 1 });
      const last = await c.remove(scope, b.file.id);
      expect(last?.freed).toEqual([a.file.uploadId]);
      expect(await c.findContent('t1', SHA_A)).toBeUndefined();
    });

    it('content known only later (fingerprint) is deduplicated then', async () => {
      const c = await open();
      const a = await c.ingest(input({ sha256: SHA_A }));
      const late = await c.ingest(input());
      expect(late.file.objectId).not.toBe(a.file.objectId);
      const set = await c.setContent(late.file.uploadId, SHA_A, 'video/mp4');
      expect(set?.freed).toBe(late.file.uploadId);
      expect((await c.locate(late.file.uploadId))?.object).toMatchObject({ id: a.file.objectId, refs: 2 });
      expect((await c.usage({ tenant: 't1', owner: 'alice' })).bytesStored).toBe(100);
    });

    it('uploads with the same key are versions; restore adds a version pointing at the old object; pruning frees', async () => {
      const c = await open();
      const v1 = await c.ingest(input({ key: 'report', sha256: SHA_A, size: 100 }));
      const v2 = await c.ingest(input({ key: 'report', sha256: SHA_B, size: 200 }));
      expect(v2).toMatchObject({ version: 2, file: { id: v1.file.id, currentVersion: 2, size: 200 } });
      // Another owner's key is another file.
      expect((await c.ingest(input({ key: 'report', owner: 'bob' }))).file.id).not.toBe(v1.file.id);
      expect((await c.versions(scope, v1.file.id))?.map((v) => v.version)).toEqual([2, 1]);

      const restored = await c.restore(scope, v1.file.id, 1);
      expect(restored?.file).toMatchObject({ currentVersion: 3, size: 100, sha256: SHA_A, objectId: v1.file.objectId });
      expect(restored?.version).toMatchObject({ version: 3, uploadId: `${v1.file.uploadId}.r3`, objectId: v1.file.objectId });
      expect((await c.locate(`${v1.file.uploadId}.r3`))?.object).toMatchObject({ location: v1.file.uploadId, refs: 2 });
      expect(await c.version(scope, v1.file.id, 2)).toMatchObject({ version: { sha256: SHA_B }, object: { location: v2.file.uploadId } });
      expect(await c.restore(scope, v1.file.id, 9)).toBeUndefined();
      expect(await c.restore({ tenant: 't1', owner: 'bob' }, v1.file.id, 1)).toBeUndefined();

      // Keep 1: versions 1 and 2 go; v2's object is freed, v1's object stays (version 3 points at it).
      // Upload 1's processing is still what version 3 shows: only upload 2 is dropped with its results.
      expect(await c.pruneVersions(v1.file.id, 1)).toMatchObject({ uploads: [v2.file.uploadId], freed: [v2.file.uploadId] });
      expect((await c.versions(scope, v1.file.id))?.map((v) => v.version)).toEqual([3]);
      expect((await c.findContent('t1', SHA_A))?.refs).toBe(1);
      // A new upload with the key comes after the restored version.
      expect((await c.ingest(input({ key: 'report' }))).version).toBe(4);
    });

    it('an older version can be deleted, the current one cannot', async () => {
      const c = await open();
      const v1 = await c.ingest(input({ key: 'k', sha256: SHA_A }));
      await c.ingest(input({ key: 'k', sha256: SHA_B }));
      expect(await c.removeVersion(scope, v1.file.id, 2)).toBe('current');
      expect(await c.removeVersion(scope, v1.file.id, 1)).toMatchObject({ uploads: [v1.file.uploadId], freed: [v1.file.uploadId] });
      expect(await c.removeVersion(scope, v1.file.id, 1)).toBeUndefined();
      expect((await c.versions(scope, v1.file.id))?.map((v) => v.version)).toEqual([2]);
    });
  });
}
