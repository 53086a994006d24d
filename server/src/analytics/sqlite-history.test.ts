import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { openCatalogueDb } from '../catalogue/index.js';
import { historyContract } from './history.contract.js';
import { SqlJobHistory } from './sql-history.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'history-sqlite-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;

historyContract('SQLite (better-sqlite3, WAL, temp dir; percentiles in code)', async () => {
  const history = new SqlJobHistory(openCatalogueDb({ kind: 'sqlite', file: path.join(root, `db-${++n}`, 'catalogue.db') }));
  await history.migrate();
  return history;
});
