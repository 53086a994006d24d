import { describe, expect, it } from 'vitest';
import { tempDir } from '../testing/harness.js';
import { JsonFileKvStore, MemoryKvStore } from './json-file-kv.js';
import { recordStoreContract } from './records.contract.js';
import type { UploadRecord } from './types.js';

recordStoreContract('JsonFileKvStore', async () => new JsonFileKvStore<UploadRecord>(await tempDir()));
recordStoreContract('MemoryKvStore', async () => new MemoryKvStore<UploadRecord>());

describe('JsonFileKvStore', () => {
  it('survives a restart: a new instance on the same directory reads what the old one wrote', async () => {
    const dir = await tempDir();
    await new JsonFileKvStore<{ n: number }>(dir).set('k', { n: 1 });
    expect(await new JsonFileKvStore<{ n: number }>(dir).get('k')).toEqual({ n: 1 });
  });
});
