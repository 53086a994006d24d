import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStorage } from '../storage/file-storage.js';
import { FileTiers } from './file-tiers.js';
import { tiersContract } from './tiers.contract.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'file-tiers-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const make = async () => {
  const storage = new FileStorage({ directory: path.join(root, 'uploads'), fsync: false });
  return { storage, tiers: new FileTiers({ storage, coldDir: path.join(root, 'cold') }) };
};

tiersContract('FileTiers (COLD_DIR)', make);

describe('FileTiers', () => {
  it('keeps cold copies in COLD_DIR and the standard copy leaves the uploads directory', async () => {
    const { storage, tiers } = await make();
    await storage.create('abc');
    await storage.write('abc', 0, (await import('node:stream')).Readable.from([Buffer.from('xyz')]), { limit: 3 });
    await tiers.copyToCold('abc', 3);
    expect(fs.readFileSync(path.join(root, 'cold', 'abc'), 'utf8')).toBe('xyz');
    await tiers.dropStandard('abc');
    expect(fs.existsSync(path.join(root, 'uploads', 'abc'))).toBe(false);
    expect(() => tiers.coldPathOf('../x')).toThrow('unsafe');
  });
});
