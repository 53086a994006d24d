/** The file catalogue (issue 14): the interface, its SQL implementation, and how it is opened. */
import type { CatalogueConfig } from '../config/config.js';
import { openCatalogueDb } from './database.js';
import { SqlCatalogue } from './sql-catalogue.js';
import type { Catalogue } from './types.js';

export type * from './types.js';
export { SqlCatalogue } from './sql-catalogue.js';
export { openCatalogueDb, type CatalogueDb } from './database.js';

/**
 * Opens the catalogue `config` names (SQLite file or PostgreSQL pool); `migrate()` before first use.
 * `options.dedup` (default true) is off when the catalogue is not shared by every node (see SqlCatalogue).
 */
export function createCatalogue(config: CatalogueConfig, options: { dedup?: boolean } = {}): Catalogue {
  return new SqlCatalogue(openCatalogueDb(config), options);
}
