import { afterAll, beforeAll } from 'vitest';
import { startPostgres, type PostgresHandle } from '@tus-edge/testkit';
import { openCatalogueDb } from '../catalogue/database.js';
import { SqlWebhookStore } from './sql-store.js';
import { webhookStoreContract } from './webhooks.contract.js';

let postgres: PostgresHandle;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
});
let n = 0;

// Two pools on one database: two nodes.
webhookStoreContract('PostgreSQL (real server, Debian postgresql)', async () => {
  const url = await postgres.createDatabase(`webhooks_${++n}`);
  const one = openCatalogueDb({ kind: 'postgres', url, poolSize: 4 });
  const two = openCatalogueDb({ kind: 'postgres', url, poolSize: 4 });
  await Promise.all([one.migrate(), two.migrate()]);
  return { a: new SqlWebhookStore(one), b: new SqlWebhookStore(two), close: async () => void (await Promise.all([one.close(), two.close()])) };
});
