import { describe, expect, it } from 'vitest';
import { addToHistogram, exactPercentiles, histogramFromJson, histogramPercentiles, histogramToJson, mergeHistogram, type Histogram } from './histogram.js';

describe('percentiles', () => {
  it('exact ones interpolate between ranks like percentile_cont', () => {
    expect(exactPercentiles([])).toBeNull();
    expect(exactPercentiles([7])).toEqual({ p50: 7, p95: 7, p99: 7 });
    expect(exactPercentiles([400, 100, 300, 200])).toEqual({ p50: 250, p95: 385, p99: 397 });
  });

  it('histograms merge, survive JSON, and estimate within 5 % over five decades', () => {
    const values = Array.from({ length: 5000 }, (_, i) => Math.round(Math.exp((i / 5000) * Math.log(100_000))) + 1);
    const a: Histogram = {};
    const b: Histogram = {};
    values.forEach((v, i) => addToHistogram(i % 2 ? a : b, v));
    const merged = histogramFromJson(histogramToJson(mergeHistogram(a, b)));
    const exact = exactPercentiles(values)!;
    const estimate = histogramPercentiles(merged)!;
    for (const q of ['p50', 'p95', 'p99'] as const) expect(Math.abs(estimate[q] - exact[q]) / exact[q]).toBeLessThanOrEqual(0.05);
    expect(histogramPercentiles({})).toBeNull();
    expect(histogramPercentiles(addToHistogram({}, 0))).toEqual({ p50: 1, p95: 1, p99: 1 });
  });
});
