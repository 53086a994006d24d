import { describe, expect, it } from 'vitest';
import { distBenchConfig } from './config.js';
import { renderS3, S3_ROWS, type S3Results, type S3Sample } from './s3-throughput.js';
import { s3SummaryRows } from './summary-rows.js';

describe('bench:distributed config', () => {
  it('runs the local-stack rows by default; BENCH_STACK=0 turns them off; anything else is refused', () => {
    expect(distBenchConfig({}).stack).toBe(true);
    expect(distBenchConfig({ BENCH_STACK: '0' }).stack).toBe(false);
    expect(() => distBenchConfig({ BENCH_STACK: 'no' })).toThrow(/BENCH_STACK="no" must be 0 or 1/);
    expect(distBenchConfig({}).timeoutS).toBe(900);
  });
});

describe('bench:distributed section 1 table', () => {
  const sample = (mibps: number): S3Sample => ({ mibps, clientCpuS: 0.1 });
  const results = (samples: Record<string, number>): S3Results => ({
    sizeMiB: 256, partSize: '16MiB', errors: new Map(), calls: new Map(),
    samples: new Map(Object.entries(samples).map(([id, v]) => [id, [sample(v)]])),
  });

  it('lists the stack rows and compares them with the same upload on one node', () => {
    const out = renderS3(results({ 'sdk-16x8': 200, 'ours-1': 180, 'ours-12': 60, 'stack-1': 90, 'stack-12': 66 }), S3_ROWS);
    expect(out).toContain('ours on the local stack (3 nodes, nginx round-robin), one PATCH');
    expect(out).toContain('ours on the local stack (3 nodes, nginx round-robin), 12 MiB PATCHes');
    expect(out).toContain('Local stack vs one node (medians): stack-1 0.50× of ours-1, stack-12 1.10× of ours-12.');
  });

  it('says nothing about the stack when its rows did not run', () => {
    const out = renderS3(results({ 'sdk-16x8': 200, 'ours-1': 180 }), S3_ROWS.filter((r) => !r.needsStack));
    expect(out).not.toContain('local stack');
  });

  it('gives the summary one row per row that ran, against the best direct row and stock with the same PATCH size', () => {
    const rows = s3SummaryRows(results({ 'sdk-5x4': 100, 'sdk-16x8': 200, 'stack-12': 90, 'stock-12': 60 }), S3_ROWS);
    expect(rows.map((r) => r.target)).toEqual([
      'direct SDK Upload, part 5 MiB × queue 4 (SDK defaults)', 'direct SDK Upload, part 16 MiB × queue 8',
      'ours on the local stack (3 nodes, nginx round-robin), 12 MiB PATCHes', 'stock @tus/server + @tus/s3-store, 12 MiB PATCHes',
    ]);
    expect(rows[0].vsLimit).toEqual({ ratio: 0.5, limit: 'direct SDK' });
    expect(rows[1].vsLimit).toBeUndefined(); // the limit itself
    expect(rows[2]).toMatchObject({ vsLimit: { ratio: 0.45 }, vsStock: 1.5, verdict: 'MISSED ≥ 0.90× direct' });
    expect(rows[3]).toMatchObject({ vsLimit: { ratio: 0.3 }, vsStock: undefined, verdict: undefined });
  });
});
