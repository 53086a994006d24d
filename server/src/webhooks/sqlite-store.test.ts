import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { openCatalogueDb } from '../catalogue/database.js';
import { SqlWebhookStore } from './sql-store.js';
import { webhookStoreContract } from './webhooks.contract.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'webhooks-sqlite-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;

// One connection per process on SQLite (as the server shares the catalogue's): both "nodes" use it.
webhookStoreContract('SQLite (better-sqlite3, WAL, temp dir)', async () => {
  const db = openCatalogueDb({ kind: 'sqlite', file: path.join(root, `db-${++n}`, 'catalogue.db') });
  await db.migrate();
  return { a: new SqlWebhookStore(db), b: new SqlWebhookStore(db), close: () => db.close() };
});
