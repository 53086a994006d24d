import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '@tus-edge/processors';
import { startS3, type S3Handle } from '@tus-edge/testkit';
import { storageContract } from '../storage.contract.js';
import { StorageUnavailableError } from '../types.js';
import { S3Storage } from './s3-storage.js';
import type { TusS3Store } from './tus-s3-store.js';

let s3: S3Handle;
beforeAll(async () => {
  // Swift builds its rings in Python: on a loaded machine that alone has taken over 30 s.
  s3 = await startS3({ timeoutMs: 100_000 });
}, 120_000);
afterAll(async () => {
  await s3?.stop();
});

/**
 * `failNext(command, input)`, when given, is asked before each S3 command: if it says so, the command reads
 * its whole body (as a sent request would) and fails with the 503 Swift and S3 answer when busy.
 * `uniformParts` turns on the Cloudflare R2 mode (every part but the last of 5 MiB here).
 */
function makeStorage(
  failNext?: (command: string, input: { Key?: string; Body?: unknown }) => boolean, uniformParts = false, onRetry?: (what: 'part' | 'tail') => void,
): S3Storage {
  const client = createS3Client({
    endpoint: s3.endpoint, region: s3.region, forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  if (failNext) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (!failNext(context.commandName ?? '', args.input as { Key?: string; Body?: unknown })) return next(args);
        const body = (args.input as { Body?: unknown }).Body;
        if (body instanceof Readable) for await (const _ of body);
        throw Object.assign(new Error('Please reduce your request rate.'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
      },
      { step: 'initialize', name: 'failNext' },
    );
  }
  return new S3Storage({ client, bucket: s3.bucket, partSize: 5 * 1024 * 1024, partConcurrency: 4, maxUploadSize: 1024 ** 3, uniformParts, onRetry });
}

/** The upload's stored bytes have the sha256 of `data`. */
async function expectStored(s: S3Storage, id: string, data: Buffer): Promise<void> {
  const hash = createHash('sha256');
  for await (const chunk of await s.read(id)) hash.update(chunk as Buffer);
  expect(hash.digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
}

storageContract('S3Storage (real S3 server)', async () => makeStorage());
storageContract('S3Storage with uniform parts (Cloudflare R2 mode, real S3 server)', async () => makeStorage(undefined, true));

describe('S3Storage with uniform parts (Cloudflare R2 mode)', () => {
  const MiB = 1024 * 1024;
  const store = (s: S3Storage) => (s as unknown as { store: TusS3Store }).store;

  it('writes of any length leave every part but the last at the one part size; the rest waits as the tail', async () => {
    const seenParts: number[] = [];
    const s = makeStorage((command, input) => {
      const body = input.Body as { path?: string } | Buffer | undefined;
      if (command === 'UploadPartCommand' && body && !Buffer.isBuffer(body) && body.path) seenParts.push(fs.statSync(body.path).size);
      return false;
    }, true);
    expect(store(s).uniformPartSize).toBe(5 * MiB);
    const id = `uni${randomBytes(6).toString('hex')}`;
    const data = randomBytes(28 * MiB);
    await s.create(id, { length: data.length });
    let at = 0;
    for (const bytes of [7, 12, 3, 6].map((n) => n * MiB)) {
      await s.write(id, at, Readable.from([data.subarray(at, at + bytes)]), { limit: bytes, expected: bytes });
      at += bytes;
      if (at === data.length) break; // the last write completes the upload
      const layout = await store(s).layoutOf(id);
      expect(layout.parts.map((p) => p.Size)).toEqual(Array(layout.parts.length).fill(5 * MiB));
      expect((layout.tail ?? 0) + layout.parts.length * 5 * MiB).toBe(at);
    }
    // 2 + 6 MiB: one more whole part and the short last one, sent as a part because it ends the upload.
    expect(seenParts).toEqual([5, 5, 5, 5, 5, 3].map((n) => n * MiB));
    await s.complete(id, data.length);
    await expectStored(s, id, data);
    await s.remove(id);
  });

  it('an upload keeps the part size it was created with when the setting changes while it is in flight', async () => {
    const id = `keep${randomBytes(6).toString('hex')}`;
    await makeStorage(undefined, true).create(id, { length: 20 * MiB });
    const later = makeStorage(undefined, false); // a node restarted without S3_UNIFORM_PARTS
    await later.write(id, 0, Readable.from([randomBytes(7 * MiB)]), { limit: 7 * MiB, expected: 7 * MiB });
    const layout = await store(later).layoutOf(id);
    expect(layout.parts.map((p) => p.Size)).toEqual([5 * MiB]); // not one 7 MiB part
    expect(layout.tail).toBe(2 * MiB);
    await later.remove(id);
  });

  it('concatenates into uniform parts: copied inside S3 where a part lies in one piece, read where it spans two', async () => {
    const seen: string[] = [];
    const s = makeStorage((command) => {
      if (command === 'UploadPartCopyCommand' || command === 'UploadPartCommand') seen.push(command);
      return false;
    }, true);
    const pieces = [randomBytes(6 * MiB), randomBytes(7 * MiB)];
    const ids = pieces.map(() => `piece${randomBytes(6).toString('hex')}`);
    for (const [i, id] of ids.entries()) {
      await s.create(id, { length: pieces[i].length });
      await s.write(id, 0, Readable.from([pieces[i]]), { limit: pieces[i].length, expected: pieces[i].length });
      await s.complete(id, pieces[i].length);
    }
    const target = `final${randomBytes(6).toString('hex')}`;
    await s.create(target, { length: 13 * MiB });
    seen.length = 0;
    await s.concatenate(target, ids);
    // [0, 5) inside the first piece: copied; [5, 10) spans both: read; [10, 13) is the short last part.
    expect(seen).toEqual(['UploadPartCopyCommand', 'UploadPartCommand', 'UploadPartCommand']);
    await expectStored(s, target, Buffer.concat(pieces));
    for (const id of [...ids, target]) await s.remove(id);
  });
});

describe('S3Storage', () => {
  async function keysOf(id: string): Promise<string[]> {
    const storage = makeStorage();
    const client = (storage as unknown as { client: ReturnType<typeof createS3Client> }).client;
    const listed = await client.listObjectsV2({ Bucket: s3.bucket, Prefix: id });
    return (listed.Contents ?? []).map((o) => o.Key!).sort();
  }

  it('removes every object of an upload, including the short tail stock @tus/s3-store leaves behind', async () => {
    const s = makeStorage();
    const id = `rm${randomBytes(6).toString('hex')}`;
    await s.create(id, { length: 10_000_000 });
    await s.write(id, 0, Readable.from([randomBytes(1000)]), { limit: 10_000_000 });
    expect(await keysOf(id)).toEqual([id + '.info', id + '.part']);
    await s.remove(id);
    expect(await keysOf(id)).toEqual([]);
    expect((await s.offset(id))?.bytes).toBeUndefined();
  });

  it('cuts writes of known length into whole parts: no tail is left for the next write to re-upload', async () => {
    const s = makeStorage(); // preferred part size 5 MiB
    const id = `sized${randomBytes(6).toString('hex')}`;
    const MiB = 1024 * 1024;
    const data = randomBytes(30 * MiB);
    const write = (from: number, bytes: number, expected: number) =>
      s.write(id, from, Readable.from([data.subarray(from, from + bytes)]), { limit: expected, expected });
    const partSizes = async () => (await (s as unknown as { store: TusS3Store }).store.layoutOf(id)).parts.map((p) => p.Size! / MiB);
    await s.create(id, { length: data.length });
    await write(0, 6 * MiB, 6 * MiB); // stock: a 5 MiB part and a 1 MiB tail
    expect(await keysOf(id)).toEqual([id + '.info']);
    expect(await partSizes()).toEqual([6]);
    await write(6 * MiB, 12 * MiB, 12 * MiB); // two equal parts ≥ 5 MiB
    expect(await partSizes()).toEqual([6, 6, 6]);
    // The client goes away after 2 of 6 MiB: those bytes stay as a tail, as with stock.
    await write(18 * MiB, 2 * MiB, 6 * MiB);
    expect(await keysOf(id)).toEqual([id + '.info', id + '.part']);
    expect((await s.offset(id))?.bytes).toBe(20 * MiB);
    // The next write takes the tail in: 2 + 4 MiB make one 6 MiB part, and the last write ends the upload.
    await write(20 * MiB, 4 * MiB, 4 * MiB);
    expect(await keysOf(id)).toEqual([id + '.info']);
    expect(await partSizes()).toEqual([6, 6, 6, 6]);
    await write(24 * MiB, 6 * MiB, 6 * MiB);
    await s.complete(id, data.length);
    await expectStored(s, id, data);
    await s.remove(id);
  });

  it('a write that dies after merging the tail into a part and before deleting the tail loses nothing and counts nothing twice', async () => {
    const s = makeStorage();
    const store = (s as unknown as { store: { deleteIncompletePart(id: string): Promise<void> } }).store;
    const id = `crash${randomBytes(6).toString('hex')}`;
    const MiB = 1024 * 1024;
    const data = randomBytes(12 * MiB);
    await s.create(id, { length: data.length });
    await s.write(id, 0, Readable.from([data.subarray(0, MiB)]), { limit: MiB, expected: MiB }); // a 1 MiB tail
    expect((await s.offset(id))?.bytes).toBe(MiB);
    const deleteTail = store.deleteIncompletePart.bind(store);
    store.deleteIncompletePart = async () => {
      throw new Error('the node died here');
    };
    await expect(s.write(id, MiB, Readable.from([data.subarray(MiB, 6 * MiB)]), { limit: 5 * MiB, expected: 5 * MiB })).rejects.toThrow(/died/);
    store.deleteIncompletePart = deleteTail;
    // The merged 6 MiB part is stored and the old tail object is still there: it must not count again.
    expect(await keysOf(id)).toEqual([id + '.info', id + '.part']);
    expect((await s.offset(id))?.bytes).toBe(6 * MiB);
    await s.write(id, 6 * MiB, Readable.from([data.subarray(6 * MiB)]), { limit: 6 * MiB, expected: 6 * MiB });
    expect(await keysOf(id)).toEqual([id, id + '.info']);
    await s.complete(id, data.length);
    await expectStored(s, id, data);
    await s.remove(id);
  });

  it('parts a failed write left past a gap never count, even after a shorter write fills the gap', async () => {
    const s = makeStorage();
    const store = (s as unknown as { store: TusS3Store }).store;
    const client = createS3Client({
      endpoint: s3.endpoint, region: s3.region, forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    const id = `stray${randomBytes(6).toString('hex')}`;
    const MiB = 1024 * 1024;
    const data = randomBytes(20 * MiB);
    await s.create(id, { length: data.length });
    await s.write(id, 0, Readable.from([data.subarray(0, 5 * MiB)]), { limit: 5 * MiB, expected: 5 * MiB });
    // A 12 MiB write cut in two 6 MiB parts: part 2 failed, parts 3 and 4 (of another attempt) arrived.
    const uploadId = (await store.metadataOf(id))['upload-id'];
    for (const [PartNumber, from] of [[3, 11], [4, 17]] as const) {
      await client.uploadPart({ Bucket: s3.bucket, Key: id, UploadId: uploadId, PartNumber, Body: data.subarray(from * MiB, (from + 3) * MiB) });
    }
    expect((await s.offset(id))?.bytes).toBe(5 * MiB);
    // The client resumes with 7 MiB: one 7 MiB part 2, so the old part 3 would start at the wrong byte.
    await s.write(id, 5 * MiB, Readable.from([data.subarray(5 * MiB, 12 * MiB)]), { limit: 7 * MiB, expected: 7 * MiB });
    expect((await s.offset(id))?.bytes).toBe(12 * MiB);
    expect((await store.layoutOf(id)).strays).toBeUndefined();
    await s.write(id, 12 * MiB, Readable.from([data.subarray(12 * MiB)]), { limit: 8 * MiB, expected: 8 * MiB });
    await s.complete(id, data.length);
    await expectStored(s, id, data);
    await s.remove(id);
    client.destroy();
  });

  it('sends a part or a tail again when S3 answers 503 after taking its body; every byte arrives once', async () => {
    const failures: Record<string, number> = { UploadPartCommand: 2, PutObjectCommand: 1 };
    const retried: string[] = [];
    const s = makeStorage(
      (command, input) => !String(input.Key).endsWith('.info') && (failures[command] ?? 0) > 0 && failures[command]-- > 0,
      false,
      (what) => retried.push(what),
    );
    const id = `flaky${randomBytes(6).toString('hex')}`;
    const MiB = 1024 * 1024;
    const data = randomBytes(11 * MiB);
    await s.create(id, { length: data.length });
    // 5 MiB + 3 MiB: one part (failed twice), then a tail (failed once).
    expect(await s.write(id, 0, Readable.from([data.subarray(0, 5 * MiB)]), { limit: 5 * MiB, expected: 5 * MiB })).toEqual({ bytes: 5 * MiB, end: 'complete' });
    expect(await s.write(id, 5 * MiB, Readable.from([data.subarray(5 * MiB, 8 * MiB)]), { limit: data.length })).toEqual({ bytes: 3 * MiB, end: 'complete' });
    expect(failures).toEqual({ UploadPartCommand: 0, PutObjectCommand: 0 });
    expect(retried).toEqual(['part', 'part', 'tail']);
    await s.write(id, 8 * MiB, Readable.from([data.subarray(8 * MiB)]), { limit: 3 * MiB, expected: 3 * MiB });
    await s.complete(id, data.length);
    await expectStored(s, id, data);
    await s.remove(id);
  });

  it('a store that stays busy fails the write as unavailable (retryable) and moves no offset', async () => {
    let busy = false;
    const s = makeStorage((command) => busy && command === 'UploadPartCommand');
    const id = `busy${randomBytes(6).toString('hex')}`;
    const MiB = 1024 * 1024;
    await s.create(id, { length: 20 * MiB });
    await s.write(id, 0, Readable.from([randomBytes(5 * MiB)]), { limit: 5 * MiB, expected: 5 * MiB });
    busy = true;
    await expect(s.write(id, 5 * MiB, Readable.from([randomBytes(5 * MiB)]), { limit: 5 * MiB, expected: 5 * MiB })).rejects.toBeInstanceOf(StorageUnavailableError);
    expect((await s.offset(id))?.bytes).toBe(5 * MiB);
    await s.remove(id);
  });

  it('creation, reads and removal on a busy store fail as unavailable (retryable), not as errors of ours', async () => {
    let busy = false;
    const s = makeStorage(() => busy);
    const id = `busy${randomBytes(6).toString('hex')}`;
    busy = true;
    await expect(s.create(id, { length: 10 })).rejects.toBeInstanceOf(StorageUnavailableError);
    busy = false;
    await s.create(id, { length: 10 });
    await s.write(id, 0, Readable.from([Buffer.from('0123456789')]), { limit: 10 });
    await s.complete(id, 10);
    busy = true;
    await expect(s.read(id)).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(s.remove(id)).rejects.toBeInstanceOf(StorageUnavailableError);
    busy = false;
    await s.remove(id);
  });

  it('removes a finished upload', async () => {
    const s = makeStorage();
    const id = `rmdone${randomBytes(6).toString('hex')}`;
    await s.create(id, { length: 10 });
    await s.write(id, 0, Readable.from([Buffer.from('0123456789')]), { limit: 10 });
    await s.complete(id, 10);
    expect(await keysOf(id)).toEqual([id, id + '.info']);
    await s.remove(id);
    expect(await keysOf(id)).toEqual([]);
  });

  it('reports a missing bucket as unavailable, not as a missing upload', async () => {
    const client = createS3Client({
      endpoint: s3.endpoint, region: s3.region, forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    const s = new S3Storage({ client, bucket: 'no-such-bucket-here', partSize: 5 * 1024 * 1024, partConcurrency: 1, maxUploadSize: 1024 });
    await expect(s.check()).rejects.toThrow();
    await expect(s.offset('abc')).rejects.toThrow();
  });
});
