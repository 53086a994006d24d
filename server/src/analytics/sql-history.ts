import type { CatalogueDb } from '../catalogue/database.js';
import type { HistoryDb } from './db.js';
import { processingReport } from './processing.js';
import { dailyReport, rollup } from './rollup.js';
import { generationReport, usageReport } from './usage.js';
import type { JobHistory, ProcessingQuery, RangeQuery, StoredAttempt, UsageEvent } from './types.js';

/** Attempts inserted per statement (21 columns: far below both dialects' parameter limits). */
const INSERT_CHUNK = 200;

const msBetween = (from: string | null, to: string): number | null => {
  if (!from) return null;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) ? Math.max(0, Math.round(ms)) : null;
};

/**
 * The job history in the catalogue database (SQLite or PostgreSQL through Kysely, the same
 * queries on both). Shares the catalogue's connection when given its {@link CatalogueDb}; closes it
 * only when `ownsDatabase`.
 */
export class SqlJobHistory implements JobHistory {
  private readonly db: HistoryDb;

  constructor(private readonly database: CatalogueDb, private readonly ownsDatabase = true) {
    // The history's tables live in the same database (migration 0002_job_history).
    this.db = database.db as unknown as HistoryDb;
  }

  migrate(): Promise<void> {
    return this.database.migrate();
  }

  async recordAttempts(attempts: StoredAttempt[]): Promise<void> {
    for (let i = 0; i < attempts.length; i += INSERT_CHUNK) {
      const rows = attempts.slice(i, i + INSERT_CHUNK).map((a) => ({
        id: a.id,
        job_id: a.jobId,
        upload_id: a.uploadId,
        tenant: a.tenant,
        owner: a.owner,
        kind: a.kind,
        media_type: a.mediaType ?? 'application/octet-stream',
        size: a.size,
        queued_at: a.queuedAt,
        started_at: a.startedAt,
        ended_at: a.endedAt,
        queue_wait_ms: msBetween(a.queuedAt, a.startedAt ?? a.endedAt),
        duration_ms: msBetween(a.startedAt, a.endedAt),
        attempt: a.attempt,
        outcome: a.outcome,
        error_code: a.errorCode,
        model: a.model,
        prompt_tokens: a.promptTokens,
        completion_tokens: a.completionTokens,
        metrics: JSON.stringify(a.metrics ?? {}),
        node: a.node ?? '',
      }));
      // The same attempt written twice (a republished record, a redelivered batch) is stored once.
      await this.db.insertInto('job_attempts').values(rows).onConflict((oc) => oc.column('id').doNothing()).execute();
    }
  }

  async recordUsage(event: UsageEvent): Promise<void> {
    await this.db
      .insertInto('upload_usage')
      .values({ upload_id: event.uploadId, tenant: event.tenant, owner: event.owner, event: event.event, bytes: event.bytes, at: event.at })
      .onConflict((oc) => oc.column('upload_id').doNothing())
      .execute();
  }

  processing(query: ProcessingQuery) {
    return processingReport(this.db, this.database.kind, query);
  }

  generation(query: RangeQuery) {
    return generationReport(this.db, query);
  }

  usage(query: RangeQuery, perOwner: boolean) {
    return usageReport(this.db, query, perOwner);
  }

  rollup(before: Date) {
    return rollup(this.db, before);
  }

  dailyReport(day: string) {
    return dailyReport(this.db, day);
  }

  async close(): Promise<void> {
    if (this.ownsDatabase) await this.database.close();
  }
}
