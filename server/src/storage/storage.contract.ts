/**
 * The contract every {@link UploadStorage} must pass (file and S3). Bytes are read back only after
 * `complete`, as the server does (an S3 object exists only once its multipart upload is completed).
 * Call `storageContract(name, factory)` from a `*.test.ts` file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { UploadStorage } from './types.js';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

let seq = 0;
const newId = () => `contract${process.pid}x${seq++}x${randomBytes(4).toString('hex')}`;

/** Writes `data` as a whole new upload of that length and completes it. */
async function storeWhole(s: UploadStorage, id: string, data: Buffer): Promise<void> {
  await s.create(id, { length: data.length });
  await s.write(id, 0, Readable.from(data.length ? [data] : []), { limit: data.length });
  await s.complete(id, data.length);
}

export function storageContract(name: string, makeStorage: () => Promise<UploadStorage>): void {
  describe(`UploadStorage contract: ${name}`, () => {
    it('creates an empty upload and reports offset 0; unknown ids have no offset', async () => {
      const s = await makeStorage();
      const id = newId();
      await s.create(id);
      expect((await s.offset(id))?.bytes).toBe(0);
      expect((await s.offset(newId()))?.bytes).toBeUndefined();
      await s.check();
    });

    it('appends writes at the offset and reads them back, whole and by range', async () => {
      const s = await makeStorage();
      const id = newId();
      const a = randomBytes(300_000);
      const b = randomBytes(700_001);
      await s.create(id, { length: a.length + b.length });
      expect(await s.write(id, 0, Readable.from([a]), { limit: 10_000_000 })).toEqual({ bytes: a.length, end: 'complete' });
      expect(await s.write(id, a.length, Readable.from([b.subarray(0, 1000), b.subarray(1000)]), { limit: 10_000_000 })).toEqual({
        bytes: b.length,
        end: 'complete',
      });
      expect((await s.offset(id))?.bytes).toBe(a.length + b.length);
      await s.complete(id, a.length + b.length);
      await s.complete(id, a.length + b.length);
      expect((await s.offset(id))?.bytes).toBe(a.length + b.length);
      expect((await readAll(await s.read(id))).equals(Buffer.concat([a, b]))).toBe(true);
      expect((await readAll(await s.read(id, { start: 299_990, end: 300_009 }))).equals(Buffer.concat([a, b]).subarray(299_990, 300_010))).toBe(true);
    });

    it('stops at the limit, reporting it, and writes no byte beyond', async () => {
      const s = await makeStorage();
      const id = newId();
      await s.create(id);
      const data = randomBytes(5000);
      const r = await s.write(id, 0, Readable.from([data]), { limit: 4000 });
      expect(r.end).toBe('limit');
      expect((await s.offset(id))?.bytes).toBeLessThanOrEqual(4000);
    });

    it('keeps the bytes received before a stop signal', async () => {
      const s = await makeStorage();
      const id = newId();
      await s.create(id);
      const body = new PassThrough();
      const stop = new AbortController();
      const first = randomBytes(600_000);
      const writing = s.write(id, 0, body, { limit: 10_000_000, signal: stop.signal });
      body.write(first);
      await new Promise((r) => setTimeout(r, 50));
      stop.abort();
      const r = await writing;
      expect(r).toEqual({ bytes: first.length, end: 'stopped' });
      expect((await s.offset(id))?.bytes).toBe(first.length);
      const rest = randomBytes(10_000);
      await s.write(id, first.length, Readable.from([rest]), { limit: rest.length });
      await s.complete(id, first.length + rest.length);
      expect((await readAll(await s.read(id))).equals(Buffer.concat([first, rest]))).toBe(true);
    });

    it('keeps bytes that had arrived when the write was stopped before it began reading', async () => {
      const s = await makeStorage();
      const id = newId();
      await s.create(id);
      const body = new PassThrough();
      const early = randomBytes(4000);
      body.write(early);
      const stop = new AbortController();
      stop.abort();
      expect(await s.write(id, 0, body, { limit: 10_000_000, signal: stop.signal })).toEqual({ bytes: early.length, end: 'stopped' });
      expect((await s.offset(id))?.bytes).toBe(early.length);
    });

    it('keeps the bytes received before the client goes away', async () => {
      const s = await makeStorage();
      const id = newId();
      await s.create(id);
      const body = new PassThrough();
      const first = randomBytes(123_457);
      const writing = s.write(id, 0, body, { limit: 10_000_000 });
      body.write(first);
      await new Promise((r) => setTimeout(r, 50));
      body.destroy();
      const r = await writing;
      expect(r).toEqual({ bytes: first.length, end: 'client-aborted' });
      expect((await s.offset(id))?.bytes).toBe(first.length);
    });

    it('shows every chunk to onChunk', async () => {
      const s = await makeStorage();
      const id = newId();
      await s.create(id);
      const data = randomBytes(1_000_000);
      const hash = createHash('sha256');
      await s.write(id, 0, Readable.from([data.subarray(0, 10), data.subarray(10)]), { limit: 2_000_000, onChunk: (c) => hash.update(c) });
      expect(hash.digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    });

    it('truncates back to an earlier length, where the storage can', async () => {
      const s = await makeStorage();
      if (!s.truncate) return expect(s.truncate).toBeUndefined(); // S3: writes are verified before they reach it
      const id = newId();
      await s.create(id);
      await s.write(id, 0, Readable.from([Buffer.from('hello world')]), { limit: 100 });
      await s.truncate(id, 5);
      expect((await s.offset(id))?.bytes).toBe(5);
      await s.complete(id, 5);
      expect((await readAll(await s.read(id))).toString()).toBe('hello');
    });

    it('completes an upload whose length was unknown at creation, and an empty one', async () => {
      const s = await makeStorage();
      const id = newId();
      await s.create(id);
      const data = randomBytes(6 * 1024 * 1024 + 3);
      await s.write(id, 0, Readable.from([data.subarray(0, 1000)]), { limit: data.length });
      await s.write(id, 1000, Readable.from([data.subarray(1000)]), { limit: data.length });
      await s.complete(id, data.length);
      expect((await s.offset(id))?.bytes).toBe(data.length);
      expect(createHash('sha256').update(await readAll(await s.read(id))).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
      const empty = newId();
      await s.create(empty, { length: 0 });
      await s.complete(empty, 0);
      expect((await s.offset(empty))?.bytes).toBe(0);
      expect((await readAll(await s.read(empty))).length).toBe(0);
    });

    it('concatenates large parts (copied inside the store) mixed with small ones', async () => {
      const s = await makeStorage();
      const big = randomBytes(5 * 1024 * 1024 + 17);
      const small = randomBytes(4096);
      const [a, b] = [newId(), newId()];
      await storeWhole(s, a, big);
      await storeWhole(s, b, small);
      const target = newId();
      const expected = Buffer.concat([small, big, big, small]);
      await s.create(target, { length: expected.length });
      await s.concatenate(target, [b, a, a, b]);
      expect((await s.offset(target))?.bytes).toBe(expected.length);
      const got = await readAll(await s.read(target));
      expect(got.length).toBe(expected.length);
      expect(got.equals(expected)).toBe(true);
    });

    it('concatenates parts in order into a new upload', async () => {
      const s = await makeStorage();
      const parts = [newId(), newId(), newId()];
      const datas = [randomBytes(1000), randomBytes(0), randomBytes(70_000)];
      for (const [i, id] of parts.entries()) await storeWhole(s, id, datas[i]);
      const target = newId();
      const expected = Buffer.concat([datas[2], datas[0], datas[1], datas[0]]);
      await s.create(target, { length: expected.length });
      await s.concatenate(target, [parts[2], parts[0], parts[1], parts[0]]);
      expect((await s.offset(target))?.bytes).toBe(expected.length);
      expect((await readAll(await s.read(target))).equals(expected)).toBe(true);
    });

    it('removes uploads; removing twice is not an error', async () => {
      const s = await makeStorage();
      const id = newId();
      await s.create(id);
      await s.remove(id);
      await s.remove(id);
      expect((await s.offset(id))?.bytes).toBeUndefined();
    });

    it('reports where the bytes live', async () => {
      const s = await makeStorage();
      const id = newId();
      const loc = s.location(id);
      expect(['file', 's3']).toContain(loc.kind);
    });
  });
}
