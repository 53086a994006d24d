import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, parseDuration, parseSize } from './config.js';

describe('parseConfig', () => {
  it('fills documented defaults', () => {
    const c = parseConfig({});
    expect(c.port).toBe(1080);
    expect(c.host).toBe('0.0.0.0');
    expect(c.tusPath).toBe('/files');
    expect(c.maxSize).toBe(16 * 1024 ** 3);
    expect(c.uploadExpiryMs).toBe(86_400_000);
    expect(c.corsOrigins).toEqual(['*']);
    expect(c.shutdownTimeoutMs).toBe(10_000);
    expect(c.logLevel).toBe('info');
    expect(c.fsync).toBe(true);
  });

  it('parses sizes, durations and lists', () => {
    const c = parseConfig({ MAX_SIZE: '512MiB', UPLOAD_EXPIRY: '30m', CORS_ORIGINS: 'https://a.example, http://b.example:8080', TUS_PATH: '/up/' });
    expect(c.maxSize).toBe(512 * 1024 ** 2);
    expect(c.uploadExpiryMs).toBe(30 * 60_000);
    expect(c.corsOrigins).toEqual(['https://a.example', 'http://b.example:8080']);
    expect(c.tusPath).toBe('/up');
  });

  it.each([
    [{ PORT: '70000' }, /PORT/],
    [{ PORT: 'abc' }, /PORT/],
    [{ MAX_SIZE: '-1' }, /MAX_SIZE/],
    [{ MAX_SIZE: 'lots' }, /MAX_SIZE/],
    [{ UPLOAD_EXPIRY: 'soon' }, /UPLOAD_EXPIRY/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ TUS_PATH: 'files' }, /TUS_PATH/],
    [{ CORS_ORIGINS: 'not an origin' }, /CORS_ORIGINS/],
    [{ SHUTDOWN_TIMEOUT_MS: '1.5' }, /SHUTDOWN_TIMEOUT_MS/],
    [{ FSYNC: 'maybe' }, /FSYNC/],
  ])('refuses %j with a message naming the variable', (raw, name) => {
    expect(() => parseConfig(raw)).toThrow(ConfigError);
    expect(() => parseConfig(raw)).toThrow(name);
  });

  it('parses units', () => {
    expect(parseSize('X', '1k')).toBe(1024);
    expect(parseSize('X', '2GiB')).toBe(2 * 1024 ** 3);
    expect(parseDuration('X', '1500')).toBe(1500);
    expect(parseDuration('X', '7d')).toBe(7 * 86_400_000);
  });
});
