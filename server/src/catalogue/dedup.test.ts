/** The dedup and versions contract on the embedded backend (SQLite in a temp dir). */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll } from 'vitest';
import { tempDir } from '@tus-edge/testkit';
import { createCatalogue } from './index.js';
import { dedupContract } from './dedup.contract.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
});

dedupContract('sqlite', async () => {
  const dir = await tempDir('catalogue-dedup-');
  dirs.push(dir);
  const catalogue = createCatalogue({ kind: 'sqlite', file: path.join(dir, 'catalogue.db') });
  await catalogue.migrate();
  return catalogue;
});
