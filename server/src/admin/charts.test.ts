/**
 * The admin page's chart geometry (public/admin/charts.js, plain browser JS) from a fixture in the
 * agreed shape of GET /api/analytics/processing?interval=1h; the page test draws it in Chromium.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { chartModel, formatMs, type ProcessingGroup } from '../../public/admin/charts.js';

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/e2e/admin/processing-fixture.json');
const fixture = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as { from: string; to: string; groups: ProcessingGroup[] };
const { groups } = fixture;

describe('processing charts', () => {
  it('draws p50 and p95 lines with a gap where an hour had no finished job, and job bars with failures', () => {
    const model = chartModel(groups[0]!, { width: 560, height: 180, from: fixture.from, to: fixture.to })!;
    expect(model.key).toBe('video');
    expect(model.title).toBe('video: 12 jobs, 1 failed (8.3 %), p50 812 ms, p95 2.4 s');
    // Three points of four: the 07:00 bucket has none, so the path moves instead of drawing across it.
    expect(model.p95.points.map((p) => p.value)).toEqual([900, 2400, 1200]);
    expect(model.p95.d.match(/M/g)).toHaveLength(2);
    // Without the 07:00 bucket at all (no jobs that hour) the line breaks the same way.
    const sparse = chartModel({ ...groups[0]!, series: groups[0]!.series!.filter((s) => s.jobs > 0) }, { from: fixture.from, to: fixture.to })!;
    expect(sparse.p95.d.match(/M/g)).toHaveLength(2);
    // The largest value touches the top of the plot, time runs left to right.
    expect(Math.min(...model.p95.points.map((p) => p.y))).toBeCloseTo(model.plot.top, 0);
    const xs = model.p50.points.map((p) => p.x);
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    expect(model.bars.map((b) => [b.jobs, b.failed])).toEqual([[3, 0], [5, 1], [0, 0], [4, 0]]);
    expect(model.bars[1]!.failedHeight).toBeCloseTo(model.bars[1]!.height / 5, 5);
    // The x axis is the whole range (24 h), each bucket at its middle: the last four hours sit at the right.
    expect(model.xLabels.map((l) => l.label)).toEqual(['12-01 08:00', '12-02 08:00']);
    expect(model.bars[0]!.x).toBeGreaterThan(model.plot.left + (model.plot.right - model.plot.left) * 0.8);
    expect(model.bars[3]!.x + model.bars[3]!.width / 2).toBeLessThanOrEqual(model.plot.right + 0.001);
    expect(model.yTicks[0]!.label).toBe('2.4 s');
  });

  it('keeps a group with failures only (no durations) and skips one without a series', () => {
    const failedOnly = chartModel(groups[1]!)!;
    expect(failedOnly.p50.d).toBe('');
    expect(failedOnly.bars[0]).toMatchObject({ jobs: 1, failed: 1 });
    expect(failedOnly.title).toContain('p50 –');
    expect(chartModel({ ...groups[0]!, series: undefined })).toBeNull();
  });

  it('formats durations', () => {
    expect([formatMs(812), formatMs(2400), formatMs(42_000), formatMs(180_000), formatMs(null)]).toEqual(['812 ms', '2.4 s', '42 s', '3.0 min', '–']);
  });
});
