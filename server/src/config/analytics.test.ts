import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.js';

describe('analytics configuration', () => {
  it('records by default and keeps raw rows 30 days', () => {
    expect(parseConfig({}).analytics).toEqual({ history: true, rawRetentionMs: 30 * 86_400_000 });
  });

  it('ANALYTICS_HISTORY and ANALYTICS_RAW_RETENTION (whole days, at least one)', () => {
    expect(parseConfig({ ANALYTICS_HISTORY: 'false', ANALYTICS_RAW_RETENTION: '36h' }).analytics).toEqual({ history: false, rawRetentionMs: 86_400_000 });
    expect(() => parseConfig({ ANALYTICS_RAW_RETENTION: '12h' })).toThrow(/ANALYTICS_RAW_RETENTION must be at least 1d/);
    expect(() => parseConfig({ ANALYTICS_HISTORY: 'maybe' })).toThrow(/ANALYTICS_HISTORY/);
  });
});
