/**
 * The job history and its analytics (issue 15): whether attempts are recorded (`ANALYTICS_HISTORY`),
 * how long raw attempts are kept before the daily rollup folds them (`ANALYTICS_RAW_RETENTION`).
 */
import { ConfigError, parseBoolean, parseDuration } from '@tus-edge/processors';
import type { RawEnv } from './config.js';

/** The variables this part reads (they join the server's ENV_KEYS). */
export const ANALYTICS_ENV_KEYS = ['ANALYTICS_HISTORY', 'ANALYTICS_RAW_RETENTION'] as const;

const DAY_MS = 86_400_000;

/** Validated analytics configuration. Every field has a documented default. */
export interface AnalyticsConfig {
  /**
   * Record one row per job attempt in the catalogue database (`ANALYTICS_HISTORY`, default true).
   * False: nothing is recorded (the analytics API answers from what is there) and the rollup does not run.
   */
  history: boolean;
  /**
   * Raw attempts and upload usage events older than this are folded into daily rows by the rollup on
   * the `maintenance` queue, which also writes each finished day's report (`ANALYTICS_RAW_RETENTION`,
   * default 30d, at least 1d; whole days).
   */
  rawRetentionMs: number;
}

/** Turns the raw variables into an {@link AnalyticsConfig}. */
export function parseAnalytics(raw: RawEnv): AnalyticsConfig {
  const rawRetentionMs = raw.ANALYTICS_RAW_RETENTION ? parseDuration('ANALYTICS_RAW_RETENTION', raw.ANALYTICS_RAW_RETENTION) : 30 * DAY_MS;
  if (rawRetentionMs < DAY_MS) throw new ConfigError('ANALYTICS_RAW_RETENTION must be at least 1d (the rollup folds whole days)');
  return {
    history: raw.ANALYTICS_HISTORY ? parseBoolean('ANALYTICS_HISTORY', raw.ANALYTICS_HISTORY) : true,
    rawRetentionMs: Math.floor(rawRetentionMs / DAY_MS) * DAY_MS,
  };
}
