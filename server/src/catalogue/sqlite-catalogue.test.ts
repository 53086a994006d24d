import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { catalogueContract } from './catalogue.contract.js';
import { dedupContract } from './dedup.contract.js';
import { pendingContract } from './pending.contract.js';
import { createCatalogue } from './index.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'catalogue-sqlite-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;

catalogueContract('SQLite (better-sqlite3, WAL, temp dir)', async () => {
  const file = path.join(root, `db-${++n}`, 'catalogue.db');
  return { open: () => createCatalogue({ kind: 'sqlite', file }) };
});

dedupContract('SQLite (better-sqlite3, WAL, temp dir)', async () => {
  const catalogue = createCatalogue({ kind: 'sqlite', file: path.join(root, `db-${++n}`, 'catalogue.db') });
  await catalogue.migrate();
  return catalogue;
});

pendingContract('SQLite (better-sqlite3, WAL, temp dir)', async (options) => {
  const catalogue = createCatalogue({ kind: 'sqlite', file: path.join(root, `db-${++n}`, 'catalogue.db') }, options);
  await catalogue.migrate();
  return catalogue;
});
