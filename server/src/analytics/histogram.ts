/**
 * Percentiles of durations (ms): exact ones from raw values, and mergeable log-scale histograms for
 * the daily rollup (raw rows are deleted once folded, and percentiles of days cannot be averaged).
 */

/** Bucket i > 0 holds values in (GROWTH^(i-1), GROWTH^i] ms; bucket 0 holds [0, 1] ms. Relative error ≤ 5 %. */
const GROWTH = 1.1;
const LOG_GROWTH = Math.log(GROWTH);

/** Sparse histogram: bucket index → count. */
export type Histogram = Record<number, number>;

/** The three percentiles every analytics answer reports (ms, rounded), or null without values. */
export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

export const QUANTILES = [0.5, 0.95, 0.99] as const;

/** The bucket of `ms`. */
export function bucketOf(ms: number): number {
  return ms <= 1 ? 0 : Math.ceil(Math.log(ms) / LOG_GROWTH - 1e-9);
}

/** Adds `value` to `hist` (in place). */
export function addToHistogram(hist: Histogram, ms: number, count = 1): Histogram {
  const b = bucketOf(Math.max(0, ms));
  hist[b] = (hist[b] ?? 0) + count;
  return hist;
}

/** Adds every bucket of `from` into `into` (in place). */
export function mergeHistogram(into: Histogram, from: Histogram): Histogram {
  for (const [b, n] of Object.entries(from)) into[Number(b)] = (into[Number(b)] ?? 0) + n;
  return into;
}

/** Values counted in `hist`. */
export function histogramCount(hist: Histogram): number {
  return Object.values(hist).reduce((a, b) => a + b, 0);
}

/** The histogram as stored (JSON text) and back. */
export function histogramToJson(hist: Histogram): string {
  return JSON.stringify(hist);
}
export function histogramFromJson(text: string | null | undefined): Histogram {
  if (!text) return {};
  const parsed = JSON.parse(text) as Record<string, number>;
  const hist: Histogram = {};
  for (const [b, n] of Object.entries(parsed)) if (Number.isInteger(Number(b)) && typeof n === 'number') hist[Number(b)] = n;
  return hist;
}

/**
 * Percentiles from a histogram, interpolated between ranks like {@link exactPercentiles}, each value
 * taken as the geometric middle of its bucket (within 5 % of the true value). Null when empty.
 */
export function histogramPercentiles(hist: Histogram): Percentiles | null {
  const total = histogramCount(hist);
  if (total === 0) return null;
  const buckets = Object.keys(hist).map(Number).sort((a, b) => a - b);
  const middle = (b: number) => (b === 0 ? 1 : Math.pow(GROWTH, b - 0.5));
  /** The value of the 0-based `rank` among the sorted values. */
  const valueAt = (rank: number): number => {
    let seen = 0;
    for (const b of buckets) {
      seen += hist[b]!;
      if (seen > rank) return middle(b);
    }
    return middle(buckets.at(-1)!);
  };
  const at = (q: number): number => {
    const pos = q * (total - 1);
    const lo = Math.floor(pos);
    const low = valueAt(lo);
    return Math.round(low + (valueAt(Math.ceil(pos)) - low) * (pos - lo));
  };
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

/**
 * Exact percentiles of `values` with linear interpolation between ranks — the definition of
 * PostgreSQL's `percentile_cont`, so both dialects answer the same. Null when empty.
 */
export function exactPercentiles(values: number[]): Percentiles | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => {
    const pos = q * (sorted.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return Math.round(sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo));
  };
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}
