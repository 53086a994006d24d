import { describe, expect, it } from 'vitest';
import { distBenchConfig } from './config.js';
import { renderS3, S3_ROWS, type S3Results, type S3Sample } from './s3-throughput.js';

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
});
