import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ContentHasher, UploadHashes } from './content-hash.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const data = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');

/** One write of `bytes` at `offset`, of which `stored` were kept (as the storage reports it). */
function write(h: ContentHasher, id: string, offset: number, bytes: Buffer, stored = bytes.length): void {
  const w = h.begin(id, offset);
  w?.onChunk(bytes);
  w?.settle(offset + stored);
}

describe('ContentHasher', () => {
  it('follows in-order writes and gives the sha256 once the whole upload is covered', () => {
    const h = new ContentHasher(10);
    write(h, 'a', 0, data.subarray(0, 10));
    write(h, 'a', 10, data.subarray(10, 20));
    write(h, 'a', 20, data.subarray(20));
    expect(h.take('a', data.length)).toBe(sha(data));
    expect(h.size).toBe(0);
  });

  it('drops the hash when a write lands at an offset it did not see (another node wrote in between)', () => {
    const h = new ContentHasher(10);
    write(h, 'a', 0, data.subarray(0, 10));
    expect(h.begin('a', 20)).toBeUndefined();
    expect(h.take('a', data.length)).toBeUndefined();
  });

  it('drops the hash when the storage kept fewer bytes than it saw (a failed or undone write)', () => {
    const h = new ContentHasher(10);
    write(h, 'a', 0, data.subarray(0, 10), 0);
    expect(h.begin('a', 0)).toBeDefined(); // offset 0 always starts afresh
    const h2 = new ContentHasher(10);
    write(h2, 'b', 0, data.subarray(0, 10));
    write(h2, 'b', 10, data.subarray(10, 20), 5);
    expect(h2.take('b', 15)).toBeUndefined();
  });

  it('drops the hash of a write that threw, and of an upload cut back by a checksum undo', () => {
    const h = new ContentHasher(10);
    write(h, 'a', 0, data.subarray(0, 10));
    const w = h.begin('a', 10)!;
    w.onChunk(data.subarray(10, 20));
    w.drop();
    w.settle(20);
    expect(h.take('a', 20)).toBeUndefined();
    // Undone to 4 after a crash: the next write at 4 does not match the 10 bytes hashed.
    write(h, 'b', 0, data.subarray(0, 10));
    expect(h.begin('b', 4)).toBeUndefined();
  });

  it('gives nothing for a size it does not cover, and keeps at most maxTracked uploads', () => {
    const h = new ContentHasher(2);
    write(h, 'a', 0, data.subarray(0, 10));
    expect(h.take('a', 11)).toBeUndefined();
    write(h, 'a', 0, data.subarray(0, 1));
    write(h, 'b', 0, data.subarray(0, 1));
    write(h, 'c', 0, data.subarray(0, 1));
    expect(h.size).toBe(2);
    expect(h.take('a', 1)).toBeUndefined(); // least recently written, dropped
    expect(h.take('c', 1)).toBe(sha(data.subarray(0, 1)));
  });
});

describe('UploadHashes', () => {
  const config = { hashWhileReceiving: true, hashAtFinishMaxBytes: 20, hashTrackedMax: 10 };

  it('uses the running hash, else reads small uploads back, else leaves it to the fingerprint processor', async () => {
    const reads: string[] = [];
    const hashes = new UploadHashes(config, async (id) => (reads.push(id), Readable.from([data.subarray(0, 20)])));
    const w = hashes.begin('a', 0)!;
    w.onChunk(data);
    w.settle(data.length);
    expect(await hashes.atFinish('a', data.length)).toEqual({ sha256: sha(data), how: 'receiving' });
    expect(await hashes.atFinish('b', 20)).toEqual({ sha256: sha(data.subarray(0, 20)), how: 'read-back' });
    expect(await hashes.atFinish('c', 21)).toEqual({ how: 'later' });
    expect(reads).toEqual(['b']);
  });

  it('follows nothing when hashing while receiving is off', async () => {
    const hashes = new UploadHashes({ ...config, hashWhileReceiving: false, hashAtFinishMaxBytes: 0 }, async () => Readable.from([]));
    expect(hashes.begin('a', 0)).toBeUndefined();
    expect(await hashes.atFinish('a', 0)).toEqual({ sha256: sha(Buffer.alloc(0)), how: 'read-back' });
  });
});
