import { afterAll, beforeAll } from 'vitest';
import { startPostgres, type PostgresHandle } from '@tus-edge/testkit';
import { catalogueContract } from './catalogue.contract.js';
import { dedupContract } from './dedup.contract.js';
import { pendingContract } from './pending.contract.js';
import { createCatalogue } from './index.js';

let postgres: PostgresHandle;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
});
let n = 0;

catalogueContract('PostgreSQL (real server, Debian postgresql)', async () => {
  const url = await postgres.createDatabase(`contract_${++n}`);
  return { open: () => createCatalogue({ kind: 'postgres', url, poolSize: 4 }) };
});

dedupContract('PostgreSQL (real server, Debian postgresql)', async () => {
  const url = await postgres.createDatabase(`dedup_${++n}`);
  const catalogue = createCatalogue({ kind: 'postgres', url, poolSize: 8 });
  await catalogue.migrate();
  return catalogue;
});

pendingContract('PostgreSQL (real server, Debian postgresql)', async (options) => {
  const url = await postgres.createDatabase(`pending_${++n}`);
  const catalogue = createCatalogue({ kind: 'postgres', url, poolSize: 4 }, options);
  await catalogue.migrate();
  return catalogue;
});
