import type { ResultStore } from '@tus-edge/processors';
import type { Logger } from '../ops/logger.js';
import { dayOf, startOfDay } from './db.js';
import { reportCsv } from './rollup.js';
import type { JobHistory } from './types.js';

/** Where daily reports live in the results store: `analytics.reports/<day>.json` and `.csv` (never an upload id: those have no `.`). */
export const REPORTS_ID = 'analytics.reports';
/** Complete days looked back on for a missing report (a node down over midnight still writes it). */
const REPORT_LOOKBACK_DAYS = 7;
const DAY_MS = 86_400_000;

/** One more step of the maintenance job, its result recorded under `name` in the slot's status. */
export interface MaintenanceTask {
  readonly name: string;
  run(now: Date, signal?: AbortSignal): Promise<Record<string, unknown>>;
}

export interface RollupTaskDeps {
  history: JobHistory;
  /** The results store (the server's: `DATA_DIR/results` or the bucket's `results/`). */
  results: ResultStore;
  /** `ANALYTICS_RAW_RETENTION`. */
  rawRetentionMs: number;
  logger: Logger;
}

/**
 * The analytics step of the maintenance job (one node runs each slot, see maintenance/): folds raw
 * attempts and usage events older than the retention into daily rows, then writes the report (JSON
 * and CSV) of each complete day of the last week that has activity and no report yet. Cheap when there
 * is nothing to do: it runs every slot and so is daily in effect.
 */
export function analyticsRollupTask(deps: RollupTaskDeps): MaintenanceTask {
  return {
    name: 'analytics',
    async run(now, signal) {
      const folded = await deps.history.rollup(new Date(now.getTime() - deps.rawRetentionMs));
      const reports: string[] = [];
      const today = startOfDay(now).getTime();
      for (let back = REPORT_LOOKBACK_DAYS; back >= 1; back--) {
        signal?.throwIfAborted();
        const day = dayOf(new Date(today - back * DAY_MS).toISOString());
        if (await deps.results.head(REPORTS_ID, `${day}.json`)) continue;
        const report = await deps.history.dailyReport(day);
        if (report.kinds.length === 0 && report.usage.uploads === 0 && report.usage.abandoned === 0) continue;
        // CSV first: the JSON is what marks the day reported.
        await deps.results.put(REPORTS_ID, `${day}.csv`, Buffer.from(reportCsv(report)));
        await deps.results.put(REPORTS_ID, `${day}.json`, Buffer.from(JSON.stringify(report, null, 1)));
        reports.push(day);
      }
      if (folded.attempts > 0 || folded.usageEvents > 0 || reports.length > 0) {
        deps.logger.info('analytics rolled up', { days: folded.days, attempts: folded.attempts, usageEvents: folded.usageEvents, reports });
      }
      return { foldedAttempts: folded.attempts, foldedUsageEvents: folded.usageEvents, foldedDays: folded.days, reports };
    },
  };
}
