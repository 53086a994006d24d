import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResultStore } from './types.js';

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The contract every {@link ResultStore} passes (files, S3). `factory()` returns a fresh, empty store
 * and how to clean up after it.
 */
export function resultStoreContract(name: string, factory: () => Promise<{ store: ResultStore; cleanup?: () => Promise<void> }>): void {
  describe(`ResultStore contract: ${name}`, () => {
    let store: ResultStore;
    let cleanup: (() => Promise<void>) | undefined;
    let uploadId: string;
    beforeEach(async () => {
      ({ store, cleanup } = await factory());
      uploadId = `up-${Math.random().toString(36).slice(2, 10)}`;
    });
    afterEach(async () => {
      await store.remove(uploadId).catch(() => undefined);
      await cleanup?.();
    });

    it('stores bytes and reads them back with size and content type', async () => {
      const file = await store.put(uploadId, 'text.json', Buffer.from('{"a":1}'));
      expect(file).toEqual({ name: 'text.json', contentType: 'application/json', size: 7 });
      expect(await store.head(uploadId, 'text.json')).toEqual(file);
      const got = (await store.get(uploadId, 'text.json'))!;
      expect(got.file).toEqual(file);
      expect(await text(got.stream)).toBe('{"a":1}');
    });

    it('deletes one result, and an absent one without error', async () => {
      await store.put(uploadId, 'a.json', Buffer.from('{}'));
      await store.put(uploadId, 'b.json', Buffer.from('{}'));
      await store.delete(uploadId, 'a.json');
      await store.delete(uploadId, 'never.json');
      expect((await store.list(uploadId)).map((f) => f.name)).toEqual(['b.json']);
    });

    it('stores a local file by streaming it', async () => {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'result-src-'));
      try {
        const src = path.join(dir, 'poster.jpg');
        await fs.writeFile(src, Buffer.alloc(300_000, 9));
        const file = await store.put(uploadId, 'poster.jpg', { file: src });
        expect(file).toEqual({ name: 'poster.jpg', contentType: 'image/jpeg', size: 300_000 });
        expect((await store.head(uploadId, 'poster.jpg'))!.size).toBe(300_000);
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    });

    it('replaces a result, reads a byte range, and lists results sorted by name', async () => {
      await store.put(uploadId, 'b.txt', Buffer.from('old'));
      await store.put(uploadId, 'b.txt', Buffer.from('0123456789'));
      await store.put(uploadId, 'a.json', Buffer.from('[]'));
      const part = (await store.get(uploadId, 'b.txt', { start: 2, end: 5 }))!;
      expect(part.file.size).toBe(10);
      expect(await text(part.stream)).toBe('2345');
      expect(await store.list(uploadId)).toEqual([
        { name: 'a.json', contentType: 'application/json', size: 2 },
        { name: 'b.txt', contentType: 'text/plain; charset=utf-8', size: 10 },
      ]);
    });

    it('answers null / empty for what is absent, and keeps uploads apart', async () => {
      expect(await store.head(uploadId, 'nothing.json')).toBeNull();
      expect(await store.get(uploadId, 'nothing.json')).toBeNull();
      expect(await store.list(uploadId)).toEqual([]);
      await store.put(`${uploadId}-other`, 'x.txt', Buffer.from('x'));
      expect(await store.list(uploadId)).toEqual([]);
      await store.remove(`${uploadId}-other`);
    });

    it('remove deletes every result of the upload', async () => {
      await store.put(uploadId, 'a.txt', Buffer.from('a'));
      await store.put(uploadId, 'b.txt', Buffer.from('b'));
      await store.remove(uploadId);
      expect(await store.list(uploadId)).toEqual([]);
      await store.remove(uploadId); // nothing left: no error
    });

    it.each(['../x', 'a/b', '.hidden', 'UPPER.txt', '', 'a..b', 'x'.repeat(101)])('refuses the name %j', async (bad) => {
      await expect(store.put(uploadId, bad, Buffer.from('x'))).rejects.toThrow(/invalid result name/);
      await expect(store.head(uploadId, bad)).rejects.toThrow(/invalid result name/);
    });

    it('refuses upload ids that would leave the results folder', async () => {
      await expect(store.put('..', 'a.txt', Buffer.from('x'))).rejects.toThrow(/invalid upload id/);
      await expect(store.put('a/b', 'a.txt', Buffer.from('x'))).rejects.toThrow(/invalid upload id/);
    });

    it('says where the results are', () => {
      expect(store.locationOf(uploadId)).toMatch(new RegExp(`${uploadId}/$`));
    });
  });
}
