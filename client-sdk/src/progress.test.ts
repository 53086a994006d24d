import { describe, expect, it } from 'vitest';
import { ProgressMeter } from './progress.js';

describe('ProgressMeter', () => {
  it('reports bytes, percent, speed over a sliding window and the time left', () => {
    let now = 0;
    const meter = new ProgressMeter(1000, () => now);
    expect(meter.update(0, 1000)).toMatchObject({ percent: 0, bytesPerSecond: 0, etaSeconds: null });
    now = 1000;
    expect(meter.update(100, 1000)).toMatchObject({ bytesUploaded: 100, percent: 10, bytesPerSecond: 100, etaSeconds: 9 });
    now = 2000;
    expect(meter.update(300, 1000)).toMatchObject({ bytesPerSecond: 150 });
    now = 6000;
    // Samples older than 3 s drop out: the speed is the recent one.
    expect(meter.update(500, 1000).bytesPerSecond).toBeCloseTo(200 / 4, 5);
    now = 7000;
    expect(meter.update(1000, 1000)).toMatchObject({ percent: 100, etaSeconds: 0 });
  });

  it('starts the speed again after a pause', () => {
    let now = 0;
    const meter = new ProgressMeter(100, () => now);
    meter.update(0, 100);
    now = 1000;
    meter.update(50, 100);
    meter.restart();
    expect(meter.current).toMatchObject({ bytesUploaded: 50, bytesPerSecond: 0, etaSeconds: null });
  });
});
