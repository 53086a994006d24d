/**
 * The contract every catalogue backend must pass (SQLite in a temp dir, real PostgreSQL). Each test
 * gets a fresh database; `open()` gives one more connection to it, not migrated yet.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Catalogue, IngestInput, OwnerScope } from './types.js';

/** A fresh, empty database; each `open()` is another catalogue (connection pool) on it. */
export interface FreshDatabase {
  open(): Catalogue;
}

const alice: OwnerScope = { tenant: 't1', owner: 'alice' };
const bob: OwnerScope = { tenant: 't1', owner: 'bob' };

let seq = 0;
/** A finished upload of `scope`; times increase with each call so listing order is known. */
function upload(scope: OwnerScope, extra: Partial<IngestInput> = {}): IngestInput {
  seq++;
  const at = new Date(Date.UTC(2030, 0, 1, 0, 0, seq)).toISOString();
  return {
    uploadId: `u${randomBytes(6).toString('hex')}`,
    ...scope,
    name: `file-${seq}.txt`,
    key: null,
    mediaType: 'text/plain',
    size: 100,
    metadata: { filename: `file-${seq}.txt` },
    tags: [],
    createdAt: at,
    finishedAt: at,
    ...extra,
  };
}

export function catalogueContract(name: string, fresh: () => Promise<FreshDatabase>): void {
  describe(`Catalogue contract: ${name}`, () => {
    const open = async (): Promise<Catalogue> => {
      const c = (await fresh()).open();
      await c.migrate();
      return c;
    };

    it('migrates once however many nodes start at once, and again harmlessly', async () => {
      const db = await fresh();
      const nodes = [db.open(), db.open(), db.open()];
      try {
        await Promise.all(nodes.map((c) => c.migrate()));
        await nodes[0]!.migrate();
        await nodes[1]!.setMeta('k', 'v');
        expect(await nodes[2]!.getMeta('k')).toBe('v');
        await nodes[2]!.setMeta('k', 'w');
        expect(await nodes[0]!.getMeta('k')).toBe('w');
        expect(await nodes[0]!.getMeta('none')).toBeUndefined();
        await nodes[0]!.check();
      } finally {
        await Promise.all(nodes.map((c) => c.close()));
      }
    });

    it('ingests a finished upload once, however often and concurrently it is handed over', async () => {
      const c = await open();
      try {
        const input = upload(alice, { tags: ['a', ' b ', 'a', ''], metadata: { filename: 'x.txt', tags: 'a,b' }, size: 2 ** 40 });
        const results = await Promise.all([c.ingest(input), c.ingest(input), c.ingest(input)]);
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.file.id)).size).toBe(1);
        const again = await c.ingest(input);
        expect(again.created).toBe(false);
        const file = again.file;
        expect(file).toMatchObject({
          tenant: 't1', owner: 'alice', name: input.name, key: null, mediaType: 'text/plain', size: 2 ** 40, sha256: null,
          uploadId: input.uploadId, storageClass: 'standard', metadata: { filename: 'x.txt', tags: 'a,b' }, processing: null,
          tags: ['a', 'b'], currentVersion: 1, createdAt: input.createdAt, finishedAt: input.finishedAt, lastAccessedAt: null,
        });
        expect(file.id).not.toBe(input.uploadId);
        const by = await c.byUpload(input.uploadId);
        expect(by?.file.id).toBe(file.id);
        expect(by?.version).toMatchObject({ version: 1, uploadId: input.uploadId, size: 2 ** 40 });
        expect(await c.byUpload('nope')).toBeUndefined();
        expect((await c.list(alice, {}, undefined, 10)).files).toHaveLength(1);
        expect(await c.usage(alice)).toMatchObject({ files: 1, bytesStored: 2 ** 40, bytesDeduplicated: 0 });
      } finally {
        await c.close();
      }
    });

    it('makes uploads naming the same key versions of one file, per owner', async () => {
      const c = await open();
      try {
        const v1 = await c.ingest(upload(alice, { key: 'report', tags: ['t'] }));
        const v2 = await c.ingest(upload(alice, { key: 'report', size: 7, name: 'report-2.txt' }));
        const other = await c.ingest(upload(bob, { key: 'report' }));
        expect(v2.file.id).toBe(v1.file.id);
        expect(v2.version).toBe(2);
        expect(v2.file).toMatchObject({ currentVersion: 2, size: 7, name: 'report-2.txt', tags: ['t'] });
        expect(other.file.id).not.toBe(v1.file.id);
        const versions = await c.versions(alice, v1.file.id);
        expect(versions?.map((v) => v.version)).toEqual([2, 1]);
        expect(versions?.map((v) => v.size)).toEqual([7, 100]);
        expect(await c.versions(bob, v1.file.id)).toBeUndefined();
        expect((await c.byUpload(v1.file.uploadId))?.version.version).toBe(1);
        expect(await c.usage(alice)).toMatchObject({ files: 1, bytesStored: 107 });
      } finally {
        await c.close();
      }
    });

    it('scopes every read and write to the owner', async () => {
      const c = await open();
      try {
        const { file } = await c.ingest(upload(alice));
        expect(await c.get(alice, file.id)).toBeDefined();
        expect(await c.get(bob, file.id)).toBeUndefined();
        expect(await c.get({ tenant: 't2', owner: 'alice' }, file.id)).toBeUndefined();
        expect(await c.update(bob, file.id, { name: 'mine' })).toBeUndefined();
        expect(await c.remove(bob, file.id)).toBeUndefined();
        expect((await c.list(bob, {}, undefined, 10)).files).toEqual([]);
        expect((await c.get(alice, file.id))?.name).toBe(file.name);
      } finally {
        await c.close();
      }
    });

    it('lists newest first with filters and a cursor that walks every file once', async () => {
      const c = await open();
      try {
        const made = [];
        for (let i = 0; i < 7; i++) {
          made.push((await c.ingest(upload(alice, {
            name: i % 2 ? `Holiday ${i}.mp4` : `notes-${i}.txt`,
            mediaType: i % 2 ? 'video/mp4' : 'text/plain',
            tags: i % 3 === 0 ? ['keep', 'x'] : ['x'],
          }))).file);
        }
        await c.ingest(upload(bob, { tags: ['keep'] }));
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await c.list(alice, {}, cursor, 3);
          expect(page.files.length).toBeLessThanOrEqual(3);
          seen.push(...page.files.map((f) => f.id));
          cursor = page.nextCursor;
        } while (cursor);
        expect(seen).toEqual(made.map((f) => f.id).reverse());
        const ids = async (filters: Parameters<Catalogue['list']>[1]) => (await c.list(alice, filters, undefined, 100)).files.map((f) => f.name);
        expect(await ids({ tag: 'keep' })).toEqual([made[6]!.name, made[3]!.name, made[0]!.name]);
        expect(await ids({ mediaType: 'video/mp4' })).toHaveLength(3);
        expect(await ids({ mediaType: 'video/*' })).toHaveLength(3);
        expect(await ids({ mediaType: 'text/*', tag: 'keep' })).toEqual([made[6]!.name, made[0]!.name]);
        expect(await ids({ namePrefix: 'Holiday' })).toHaveLength(3);
        expect(await ids({ namePrefix: 'holiday' })).toHaveLength(0);
        expect(await ids({ namePrefix: 'notes-4' })).toEqual(['notes-4.txt']);
        expect(await ids({ createdFrom: made[2]!.createdAt, createdTo: made[4]!.createdAt })).toEqual([made[3]!.name, made[2]!.name]);
        expect(await ids({ tag: 'none' })).toEqual([]);
        expect((await c.list(alice, {}, 'not-a-cursor', 100)).files).toHaveLength(7);
      } finally {
        await c.close();
      }
    });

    it('renames and retags; the processing summary is kept as JSON', async () => {
      const c = await open();
      try {
        const { file } = await c.ingest(upload(alice, { tags: ['old'] }));
        const updated = await c.update(alice, file.id, { name: 'new name.txt', tags: ['b', 'a', 'b'] });
        expect(updated).toMatchObject({ name: 'new name.txt', tags: ['a', 'b'] });
        await c.update(alice, file.id, { processing: { thumbnail: { state: 'done' } } });
        expect((await c.get(alice, file.id))?.processing).toEqual({ thumbnail: { state: 'done' } });
        expect((await c.list(alice, { tag: 'old' }, undefined, 10)).files).toEqual([]);
        expect((await c.list(alice, { tag: 'a' }, undefined, 10)).files).toHaveLength(1);
      } finally {
        await c.close();
      }
    });

    it('stores the same content once per tenant and frees it with its last reference', async () => {
      const c = await open();
      try {
        const sha = 'ab'.repeat(32);
        const first = await c.ingest(upload(alice, { size: 1000 }));
        const second = await c.ingest(upload(bob, { size: 1000 }));
        const elsewhere = await c.ingest(upload({ tenant: 't2', owner: 'carol' }, { size: 1000 }));
        expect((await c.setContent(first.file.uploadId, sha, 'image/png'))?.freed).toBeUndefined();
        const dup = await c.setContent(second.file.uploadId, sha, null);
        expect(dup?.freed).toBe(second.file.uploadId);
        expect(dup?.file).toMatchObject({ sha256: sha, objectId: first.file.objectId, mediaType: 'text/plain' });
        expect((await c.setContent(elsewhere.file.uploadId, sha, null))?.freed).toBeUndefined();
        expect(await c.setContent('nope', sha, null)).toBeUndefined();
        expect((await c.get(alice, first.file.id))).toMatchObject({ sha256: sha, mediaType: 'image/png' });
        expect(await c.usage({ tenant: 't1' })).toMatchObject({ files: 2, bytesStored: 1000, bytesDeduplicated: 1000 });
        expect(await c.usage(bob)).toMatchObject({ files: 1, bytesStored: 1000, bytesDeduplicated: 0 });
        // A later upload whose sha256 is known at hand-over points at the stored object at once.
        const third = await c.ingest(upload(alice, { size: 1000, sha256: sha }));
        expect(third.freed).toBe(third.file.uploadId);
        expect(third.file.objectId).toBe(first.file.objectId);
        expect((await c.remove(alice, first.file.id))?.freed).toEqual([]);
        expect((await c.remove(alice, third.file.id))?.freed).toEqual([]);
        expect((await c.remove(bob, second.file.id))?.freed).toEqual([first.file.uploadId]);
        expect(await c.get(bob, second.file.id)).toBeUndefined();
        expect(await c.usage({ tenant: 't1' })).toMatchObject({ files: 0, bytesStored: 0 });
      } finally {
        await c.close();
      }
    });

    it('frees every version of a removed file', async () => {
      const c = await open();
      try {
        const v1 = await c.ingest(upload(alice, { key: 'k' }));
        const v2 = await c.ingest(upload(alice, { key: 'k' }));
        const removed = await c.remove(alice, v1.file.id);
        expect(removed?.freed.sort()).toEqual([v1.file.uploadId, v2.file.uploadId].sort());
        expect(await c.byUpload(v1.file.uploadId)).toBeUndefined();
      } finally {
        await c.close();
      }
    });

    it('answers lifecycle candidates by age since creation or last access, tag, type and class', async () => {
      const c = await open();
      try {
        const day = 86_400_000;
        const now = new Date(Date.UTC(2030, 5, 1));
        const old = new Date(now.getTime() - 40 * day).toISOString();
        const a = await c.ingest(upload(alice, { createdAt: old, finishedAt: old, tags: ['tmp'], mediaType: 'video/mp4' }));
        const b = await c.ingest(upload(alice, { createdAt: old, finishedAt: old }));
        await c.ingest(upload(alice, { createdAt: now.toISOString(), finishedAt: now.toISOString(), tags: ['tmp'] }));
        const names = async (rule: Parameters<Catalogue['candidates']>[0]) => (await c.candidates(rule, now, 100)).map((f) => f.id);
        expect(await names({ basis: 'created', olderThanMs: 30 * day, tag: 'tmp' })).toEqual([a.file.id]);
        expect((await names({ basis: 'created', olderThanMs: 30 * day })).sort()).toEqual([a.file.id, b.file.id].sort());
        expect(await names({ basis: 'created', olderThanMs: 30 * day, mediaType: 'video/*' })).toEqual([a.file.id]);
        await c.touch(b.file.id, new Date(now.getTime() - day));
        expect((await c.get(alice, b.file.id))?.lastAccessedAt).toBe(new Date(now.getTime() - day).toISOString());
        expect(await names({ basis: 'accessed', olderThanMs: 30 * day, storageClass: 'standard' })).toEqual([a.file.id]);
        await c.setStorageClass(a.file.id, 'cold');
        expect((await c.get(alice, a.file.id))?.storageClass).toBe('cold');
        expect(await names({ basis: 'accessed', olderThanMs: 30 * day, storageClass: 'standard' })).toEqual([]);
        expect((await c.usage(alice)).byStorageClass).toEqual({ standard: { files: 2, bytes: 200 }, cold: { files: 1, bytes: 100 } });
        expect((await c.usage(alice)).byMediaType).toEqual({ 'video/mp4': { files: 1, bytes: 100 }, 'text/plain': { files: 2, bytes: 200 } });
      } finally {
        await c.close();
      }
    });

    it('sums usage per tenant, the largest ones by name and the rest as other', async () => {
      const c = await open();
      try {
        for (const [tenant, size] of [['big', 5000], ['mid', 3000], ['small', 10], ['tiny', 1]] as const) {
          await c.ingest(upload({ tenant, owner: 'o' }, { size }));
        }
        await c.ingest(upload({ tenant: 'big', owner: 'p' }, { size: 5 }));
        const usage = await c.usageByTenant(2);
        expect(usage.top).toEqual([{ tenant: 'big', files: 2, bytes: 5005 }, { tenant: 'mid', files: 1, bytes: 3000 }]);
        expect(usage.other).toEqual({ tenants: 2, files: 2, bytes: 11 });
      } finally {
        await c.close();
      }
    });
  });
}
