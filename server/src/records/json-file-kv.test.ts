import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/harness.js';
import { MemoryKvStore } from '@tus-edge/testkit';
import { JsonFileKvStore } from './json-file-kv.js';
import { recordStoreContract } from './records.contract.js';
import { ScanningRecordStore } from './scanning-records.js';
import type { UploadRecord } from './types.js';

recordStoreContract('JsonFileKvStore (scanning)', async (expiryMs) => new ScanningRecordStore(new JsonFileKvStore<UploadRecord>(await tempDir()), expiryMs));
recordStoreContract('MemoryKvStore (scanning)', async (expiryMs) => new ScanningRecordStore(new MemoryKvStore<UploadRecord>(), expiryMs));

describe('JsonFileKvStore', () => {
  it('survives a restart: a new instance on the same directory reads what the old one wrote', async () => {
    const dir = await tempDir();
    await new JsonFileKvStore<{ n: number }>(dir).set('k', { n: 1 });
    expect(await new JsonFileKvStore<{ n: number }>(dir).get('k')).toEqual({ n: 1 });
  });

  it('keeps a bounded cache and still reads evicted keys from disk', async () => {
    const store = new JsonFileKvStore<{ n: number }>(await tempDir(), 3);
    for (let n = 0; n < 10; n++) await store.set(`k${n}`, { n });
    expect((store as unknown as { cache: Map<string, unknown> }).cache.size).toBe(3);
    expect(await store.get('k0')).toEqual({ n: 0 });
    expect((await store.list()).length).toBe(10);
  });

  it('a new key torn by a crash reads as absent; an existing key written again by another instance is replaced whole', async () => {
    const dir = await tempDir();
    await fs.writeFile(path.join(dir, 'torn.json'), '{"n":');
    const store = new JsonFileKvStore<{ n: number }>(dir);
    expect(await store.get('torn')).toBeUndefined();
    await store.set('torn', { n: 1 });
    expect(await new JsonFileKvStore<{ n: number }>(dir).get('torn')).toEqual({ n: 1 });
    // Not in this instance's cache, on disk already: replaced through a temp file, none left behind.
    await new JsonFileKvStore<{ n: number }>(dir).set('torn', { n: 2 });
    expect(await new JsonFileKvStore<{ n: number }>(dir).get('torn')).toEqual({ n: 2 });
    expect(await fs.readdir(dir)).toEqual(['torn.json']);
  });
});
