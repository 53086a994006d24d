import fs from 'node:fs';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, sql, SqliteDialect, type MigrationProvider } from 'kysely';
import pg from 'pg';
import type { CatalogueConfig } from '../config/config.js';
import { MIGRATIONS } from './migrations.js';
import type { CatalogueDatabase } from './schema.js';

/** An open catalogue database and how to migrate and close it. */
export interface CatalogueDb {
  kind: CatalogueConfig['kind'];
  db: Kysely<CatalogueDatabase>;
  /** Applies pending migrations under a lock that serialises every process opening the same database. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

/** Any number with this id serialises migrations across PostgreSQL sessions (`pg_advisory_lock`). */
const PG_MIGRATION_LOCK = 7_140_014;

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/** Opens the database `config` names (no I/O beyond opening the SQLite file; PostgreSQL connects lazily). */
export function openCatalogueDb(config: CatalogueConfig): CatalogueDb {
  return config.kind === 'sqlite' ? openSqlite(config.file) : openPostgres(config.url, config.poolSize);
}

function openSqlite(file: string): CatalogueDb {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const database = new Sqlite(file, { timeout: 30_000 });
  database.pragma('journal_mode = WAL');
  // WAL with synchronous=NORMAL is durable against process crashes; a power loss may lose the last commits,
  // which the sweep re-ingests from the upload records (they are kept until catalogued).
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  const db = new Kysely<CatalogueDatabase>({ dialect: new SqliteDialect({ database }) });
  return {
    kind: 'sqlite',
    db,
    migrate: async () => {
      // Kysely's SQLite adapter takes no lock (one connection per process); another process (or another
      // connection of this one) opening the same file is kept out by a write lock on a lock database beside
      // it, held for the whole migration. Acquired without blocking the event loop: try, then wait a little.
      const lock = new Sqlite(`${file}.migrate-lock`, { timeout: 0 });
      try {
        await acquire(lock, 60_000);
        try {
          await runMigrations(db);
        } finally {
          lock.exec('COMMIT');
        }
      } finally {
        lock.close();
      }
    },
    close: () => db.destroy(),
  };
}

function openPostgres(url: string, poolSize: number): CatalogueDb {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, idleTimeoutMillis: 30_000 });
  pool.on('error', () => undefined); // an idle client's error: the next query reports it
  const db = new Kysely<CatalogueDatabase>({ dialect: new PostgresDialect({ pool }) });
  return {
    kind: 'postgres',
    db,
    // A session lock on one connection, held while the migrator (on that connection) runs: the migration
    // tables' creation is serialised too, which Kysely's own transaction lock does not cover.
    migrate: () =>
      db.connection().execute(async (conn) => {
        await sql`select pg_advisory_lock(${PG_MIGRATION_LOCK})`.execute(conn);
        try {
          await runMigrations(conn);
        } finally {
          await sql`select pg_advisory_unlock(${PG_MIGRATION_LOCK})`.execute(conn);
        }
      }),
    close: () => db.destroy(),
  };
}

/** `BEGIN IMMEDIATE` on `lock`, retried every 50 ms while another connection holds it, for at most `timeoutMs`. */
async function acquire(lock: Sqlite.Database, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      lock.exec('BEGIN IMMEDIATE');
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function runMigrations(db: Kysely<CatalogueDatabase>): Promise<void> {
  // Migrations are added by independent changes (the job history, webhooks, …), each creating its own
  // tables: a database that applied a later-named one first still takes an earlier-named one after it.
  const { error, results } = await new Migrator({ db, provider, allowUnorderedMigrations: true }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const reason = error instanceof Error ? error.message : String(error ?? 'failed');
    throw new Error(`catalogue migration ${failed?.migrationName ?? ''} failed: ${reason}`);
  }
}
