/** Statistics and plain-text tables for the benchmark report. No I/O. */

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** Median of `xs` (NaN when empty). */
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile (NaN when empty). */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)];
}

const fixed = (digits: number) => (x: number) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
export const f0 = fixed(0);
export const f1 = fixed(1);
export const f2 = fixed(2);

/** `median (min–max)` of `xs`, or the single value, or `n/a` when there is none. */
export function spread(xs: number[], fmt: (x: number) => string = f0): string {
  if (xs.length === 0) return 'n/a';
  if (xs.length === 1) return fmt(xs[0]);
  return `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`;
}

/** `p50 / p99` of latencies in ms, or `n/a`. */
export function p50p99(ms: number[]): string {
  return ms.length ? `${f1(percentile(ms, 50))} / ${f1(percentile(ms, 99))}` : 'n/a';
}

/** `a/b` as `0.93×`, or `n/a` when either side is missing. */
export function ratio(a: number, b: number): string {
  const r = a / b;
  return Number.isFinite(r) ? `${f2(r)}×` : 'n/a';
}

/** Renders rows (the first is the header) as a pipe-separated table with padded columns; a row ends at its last non-empty cell. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => {
    let n = r.length;
    while (n > 1 && !r[n - 1]) n--;
    return r.slice(0, n).map((c, i) => (c ?? '').padEnd(widths[i])).join(' | ').trimEnd();
  };
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('-+-'), ...rows.slice(1).map(line)].join('\n');
}
