import type { Kysely } from 'kysely';
import type { CatalogueDatabase } from '../catalogue/schema.js';
import type { HistoryDatabase } from '../catalogue/history-schema.js';

/** The catalogue database seen with the history's tables. */
export type HistoryDb = Kysely<CatalogueDatabase & HistoryDatabase>;
export type Dialect = 'sqlite' | 'postgres';

/** Most raw rows one query reads into memory for percentiles computed in code; beyond, the newest are used. */
export const MAX_ROWS = 200_000;

export const num = (v: unknown): number => Number(v ?? 0);

/** `YYYY-MM-DD` of an ISO time (UTC). */
export const dayOf = (iso: string): string => iso.slice(0, 10);

/** Start of the UTC day of `t`. */
export function startOfDay(t: Date): Date {
  return new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
}

/** The bucket start (ISO) of an ISO time for an interval: its hour or its day. */
export function bucketStart(iso: string, interval: '1h' | '1d'): string {
  return interval === '1h' ? `${iso.slice(0, 13)}:00:00.000Z` : `${iso.slice(0, 10)}T00:00:00.000Z`;
}

/** Days (`YYYY-MM-DD`) a range touches: from the day of `from` to the day of the last instant before `to`. */
export function dayRange(from: Date, to: Date): { first: string; last: string } {
  return { first: dayOf(from.toISOString()), last: dayOf(new Date(Math.max(from.getTime(), to.getTime() - 1)).toISOString()) };
}

/** Sums custom counters (JSON objects) into `into`. */
export function addMetrics(into: Record<string, number>, text: string | null | undefined): Record<string, number> {
  if (!text) return into;
  try {
    for (const [k, v] of Object.entries(JSON.parse(text) as Record<string, unknown>)) if (typeof v === 'number' && Number.isFinite(v)) into[k] = (into[k] ?? 0) + v;
  } catch {
    /* a malformed counter object counts nothing */
  }
  return into;
}
