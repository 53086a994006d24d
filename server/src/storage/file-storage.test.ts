import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/harness.js';
import { FileStorage } from './file-storage.js';
import { storageContract } from './storage.contract.js';

storageContract('FileStorage', async () => new FileStorage({ directory: path.join(await tempDir(), 'uploads'), fsync: false }));

describe('FileStorage', () => {
  it('refuses ids that could leave its directory', async () => {
    const s = new FileStorage({ directory: await tempDir() });
    for (const bad of ['../x', 'a/b', '..', '', 'a\\b', 'x\0', 'a'.repeat(200)]) {
      expect(() => s.pathOf(bad)).toThrow(/unsafe upload id/);
      await expect(s.create(bad)).rejects.toThrow(/unsafe upload id/);
    }
  });
});
