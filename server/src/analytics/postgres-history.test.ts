import { afterAll, beforeAll } from 'vitest';
import { startPostgres, type PostgresHandle } from '@tus-edge/testkit';
import { openCatalogueDb } from '../catalogue/index.js';
import { historyContract } from './history.contract.js';
import { SqlJobHistory } from './sql-history.js';

let postgres: PostgresHandle;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
});
let n = 0;

historyContract('PostgreSQL (real server, Debian postgresql; percentiles in SQL)', async () => {
  const url = await postgres.createDatabase(`history_${++n}`);
  const history = new SqlJobHistory(openCatalogueDb({ kind: 'postgres', url, poolSize: 4 }));
  await history.migrate();
  return history;
});
