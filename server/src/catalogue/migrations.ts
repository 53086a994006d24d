import { sql, type Kysely, type Migration } from 'kysely';
import { HISTORY_MIGRATION } from './history-schema.js';
import { webhooksMigration } from './webhook-tables.js';

/**
 * The catalogue's migrations, inline (no files are read at run time), applied in name order by
 * Kysely's `Migrator` (see database.ts). A later change adds an entry with a larger name; an applied
 * entry never changes. Column types are portable (text, integer, bigint) so one schema serves SQLite
 * and PostgreSQL.
 */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_catalogue': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('objects')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('sha256', 'text')
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('location', 'text', (c) => c.notNull())
        .addColumn('storage_class', 'text', (c) => c.notNull().defaultTo('standard'))
        .addColumn('refs', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      // NULLs are distinct in both backends: the uniqueness only binds once the sha256 is known.
      await db.schema.createIndex('objects_tenant_sha256').on('objects').columns(['tenant', 'sha256']).unique().execute();
      await db.schema.createIndex('objects_location').on('objects').column('location').execute();

      await db.schema
        .createTable('files')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('key', 'text')
        .addColumn('media_type', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('sha256', 'text')
        .addColumn('object_id', 'text', (c) => c.notNull().references('objects.id'))
        .addColumn('upload_id', 'text', (c) => c.notNull())
        .addColumn('storage_class', 'text', (c) => c.notNull().defaultTo('standard'))
        .addColumn('metadata', 'text', (c) => c.notNull())
        .addColumn('processing', 'text')
        .addColumn('current_version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text', (c) => c.notNull())
        .addColumn('last_accessed_at', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('files_owner_key').on('files').columns(['tenant', 'owner', 'key']).unique().execute();
      // Listing: newest first per owner, id as the tie-breaker of the cursor.
      await db.schema.createIndex('files_owner_created').on('files').columns(['tenant', 'owner', 'created_at', 'id']).execute();
      await db.schema.createIndex('files_upload').on('files').column('upload_id').execute();
      await db.schema.createIndex('files_object').on('files').column('object_id').execute();

      await db.schema
        .createTable('file_tags')
        .addColumn('file_id', 'text', (c) => c.notNull().references('files.id').onDelete('cascade'))
        .addColumn('tag', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('file_tags_pk', ['file_id', 'tag'])
        .execute();
      await db.schema.createIndex('file_tags_tag').on('file_tags').columns(['tag', 'file_id']).execute();

      await db.schema
        .createTable('file_versions')
        .addColumn('file_id', 'text', (c) => c.notNull().references('files.id').onDelete('cascade'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('upload_id', 'text', (c) => c.notNull().unique())
        .addColumn('object_id', 'text', (c) => c.notNull().references('objects.id'))
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('sha256', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('metadata', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('file_versions_pk', ['file_id', 'version'])
        .execute();
      await db.schema.createIndex('file_versions_object').on('file_versions').column('object_id').execute();

      await db.schema
        .createTable('catalogue_meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>) {
      for (const table of ['catalogue_meta', 'file_versions', 'file_tags', 'files', 'objects']) {
        await sql`drop table if exists ${sql.table(table)}`.execute(db);
      }
    },
  },
  // The job history of issue 15 (analytics): attempts, their daily rollup, upload usage.
  '0002_job_history': HISTORY_MIGRATION,
  // Webhook endpoints, deliveries and attempts (issue 15, webhook-tables.ts).
  '0003_webhooks': webhooksMigration,
};
