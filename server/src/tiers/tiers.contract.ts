/**
 * The contract every {@link ObjectTiers} must pass (file and S3). Call `tiersContract(name, factory)`
 * from a `*.test.ts` file; the factory gives tiers and the upload storage they sit beside.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { UploadStorage } from '../storage/types.js';
import type { ObjectTiers } from './types.js';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let seq = 0;
const newId = () => `tiers${process.pid}x${seq++}x${randomBytes(4).toString('hex')}`;

/** Stores `data` as a finished upload. */
async function finished(storage: UploadStorage, data: Buffer): Promise<string> {
  const id = newId();
  await storage.create(id, { length: data.length });
  await storage.write(id, 0, Readable.from(data.length ? [data] : []), { limit: data.length });
  await storage.complete(id, data.length);
  return id;
}

export function tiersContract(name: string, make: () => Promise<{ tiers: ObjectTiers; storage: UploadStorage }>): void {
  describe(`ObjectTiers contract: ${name}`, () => {
    it('moves an object to cold in three steps; reads work after each, by range too', async () => {
      const { tiers, storage } = await make();
      const data = randomBytes(300_000);
      const id = await finished(storage, data);
      expect(await tiers.hasCold(id, data.length)).toBe(false);
      await tiers.copyToCold(id, data.length);
      expect(await tiers.hasCold(id, data.length)).toBe(true);
      expect(await tiers.hasCold(id, data.length + 1)).toBe(false);
      // Copied, not yet recorded: both classes read the same bytes.
      expect(sha(await readAll(await tiers.read(id, 'standard')))).toBe(sha(data));
      expect(sha(await readAll(await tiers.read(id, 'cold')))).toBe(sha(data));
      await tiers.dropStandard(id);
      await tiers.dropStandard(id); // idempotent
      expect(sha(await readAll(await tiers.read(id, 'cold')))).toBe(sha(data));
      expect((await readAll(await tiers.read(id, 'cold', { start: 10, end: 19 }))).equals(data.subarray(10, 20))).toBe(true);
      await tiers.removeCold(id);
      await tiers.removeCold(id); // a missing one is not an error
      expect(await tiers.hasCold(id, data.length)).toBe(false);
    });

    it('copying again (a run killed after its copy) replaces the cold copy and keeps the bytes', async () => {
      const { tiers, storage } = await make();
      const data = randomBytes(70_000);
      const id = await finished(storage, data);
      await tiers.copyToCold(id, data.length);
      await tiers.copyToCold(id, data.length);
      expect(sha(await readAll(await tiers.read(id, 'cold')))).toBe(sha(data));
      await tiers.removeCold(id);
      await storage.remove(id);
    });

    it('a copy whose size is not the expected one fails and is not reported as a cold copy', async () => {
      const { tiers, storage } = await make();
      const data = randomBytes(1000);
      const id = await finished(storage, data);
      await expect(tiers.copyToCold(id, 999)).rejects.toThrow();
      expect(await tiers.hasCold(id, 999)).toBe(false);
      await tiers.removeCold(id);
      await storage.remove(id);
    });

    it('moves an empty object', async () => {
      const { tiers, storage } = await make();
      const id = await finished(storage, Buffer.alloc(0));
      await tiers.copyToCold(id, 0);
      expect(await tiers.hasCold(id, 0)).toBe(true);
      await tiers.dropStandard(id);
      expect((await readAll(await tiers.read(id, 'cold'))).length).toBe(0);
      await tiers.removeCold(id);
    });
  });
}
