import { sql, type Kysely, type Migration } from 'kysely';

/**
 * The job history's tables (issue 15, analytics), kept in the catalogue database beside the files
 * (SQLite embedded, PostgreSQL distributed) and migrated with it. Times are ISO 8601 text, days
 * `YYYY-MM-DD` (UTC); JSON columns are text; bigints come back from PostgreSQL as strings.
 */
export interface HistoryDatabase {
  job_attempts: JobAttemptsTable;
  job_daily: JobDailyTable;
  upload_usage: UploadUsageTable;
  usage_daily: UsageDailyTable;
}

/** One row per job attempt (see `JobAttempt` in the processors package), until the rollup folds it. */
export interface JobAttemptsTable {
  id: string;
  job_id: string;
  upload_id: string;
  tenant: string;
  owner: string;
  kind: string;
  media_type: string;
  size: number | string;
  queued_at: string;
  started_at: string | null;
  ended_at: string;
  queue_wait_ms: number | null;
  duration_ms: number | null;
  attempt: number;
  outcome: string;
  error_code: string | null;
  model: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  /** JSON object of custom counters. */
  metrics: string;
  node: string;
}

/** Attempts of one day folded by owner, kind, media type and model (`''` without a model). */
export interface JobDailyTable {
  day: string;
  tenant: string;
  owner: string;
  kind: string;
  media_type: string;
  model: string;
  attempts: number;
  done: number;
  failed: number;
  /** Histograms (JSON `{bucket: count}`, see analytics/histogram.ts) of done attempts' run times and of done and failed attempts' queue waits. */
  duration_hist: string;
  wait_hist: string;
  prompt_tokens: number | string;
  completion_tokens: number | string;
  /** JSON object: custom counters summed. */
  metrics: string;
}

/** One row per upload that finished (`finished`) or expired unfinished (`abandoned`). */
export interface UploadUsageTable {
  upload_id: string;
  tenant: string;
  owner: string;
  event: 'finished' | 'abandoned';
  bytes: number | string;
  at: string;
}

/** Upload usage of one day and owner, folded by the rollup. */
export interface UsageDailyTable {
  day: string;
  tenant: string;
  owner: string;
  uploads: number;
  bytes: number | string;
  abandoned: number;
}

/** The history's migration (an entry of the catalogue's `MIGRATIONS`). */
export const HISTORY_MIGRATION: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('job_attempts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('job_id', 'text', (c) => c.notNull())
      .addColumn('upload_id', 'text', (c) => c.notNull())
      .addColumn('tenant', 'text', (c) => c.notNull())
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('media_type', 'text', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('queued_at', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text')
      .addColumn('ended_at', 'text', (c) => c.notNull())
      .addColumn('queue_wait_ms', 'integer')
      .addColumn('duration_ms', 'integer')
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('error_code', 'text')
      .addColumn('model', 'text')
      .addColumn('prompt_tokens', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('completion_tokens', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('metrics', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('node', 'text', (c) => c.notNull().defaultTo(''))
      .execute();
    await db.schema.createIndex('job_attempts_ended').on('job_attempts').column('ended_at').execute();
    await db.schema.createIndex('job_attempts_owner_ended').on('job_attempts').columns(['tenant', 'owner', 'ended_at']).execute();
    await db.schema.createIndex('job_attempts_upload').on('job_attempts').column('upload_id').execute();

    await db.schema
      .createTable('job_daily')
      .addColumn('day', 'text', (c) => c.notNull())
      .addColumn('tenant', 'text', (c) => c.notNull())
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('media_type', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('done', 'integer', (c) => c.notNull())
      .addColumn('failed', 'integer', (c) => c.notNull())
      .addColumn('duration_hist', 'text', (c) => c.notNull())
      .addColumn('wait_hist', 'text', (c) => c.notNull())
      .addColumn('prompt_tokens', 'bigint', (c) => c.notNull())
      .addColumn('completion_tokens', 'bigint', (c) => c.notNull())
      .addColumn('metrics', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('job_daily_pk', ['day', 'tenant', 'owner', 'kind', 'media_type', 'model'])
      .execute();
    await db.schema.createIndex('job_daily_owner_day').on('job_daily').columns(['tenant', 'owner', 'day']).execute();

    await db.schema
      .createTable('upload_usage')
      .addColumn('upload_id', 'text', (c) => c.primaryKey())
      .addColumn('tenant', 'text', (c) => c.notNull())
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('event', 'text', (c) => c.notNull())
      .addColumn('bytes', 'bigint', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('upload_usage_at').on('upload_usage').column('at').execute();

    await db.schema
      .createTable('usage_daily')
      .addColumn('day', 'text', (c) => c.notNull())
      .addColumn('tenant', 'text', (c) => c.notNull())
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('uploads', 'integer', (c) => c.notNull())
      .addColumn('bytes', 'bigint', (c) => c.notNull())
      .addColumn('abandoned', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('usage_daily_pk', ['day', 'tenant', 'owner'])
      .execute();
  },
  async down(db: Kysely<any>) {
    for (const table of ['usage_daily', 'upload_usage', 'job_daily', 'job_attempts']) await sql`drop table if exists ${sql.table(table)}`.execute(db);
  },
};
