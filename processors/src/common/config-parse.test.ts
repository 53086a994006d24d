import { describe, expect, it } from 'vitest';
import { ConfigError, parseBoolean, parseDuration, parseInteger, parseLogLevel, parseSize } from './config-parse.js';

describe('config parsing helpers', () => {
  it('parses units', () => {
    expect(parseSize('X', '1k')).toBe(1024);
    expect(parseSize('X', '2GiB')).toBe(2 * 1024 ** 3);
    expect(parseDuration('X', '1500')).toBe(1500);
    expect(parseDuration('X', '7d')).toBe(7 * 86_400_000);
  });

  it('takes a lower bound where zero means something', () => {
    expect(() => parseSize('MAX_SIZE', '0')).toThrow(/MAX_SIZE="0" must be a positive size/);
    expect(parseSize('PROCESSOR_HIGH_PRIORITY_MAX_BYTES', '0', 0)).toBe(0);
    expect(() => parseDuration('PROCESSOR_ACK_WAIT', '10ms', 300)).toThrow(/must be at least 300 ms/);
  });

  it.each([
    [() => parseSize('MAX_SIZE', 'lots'), /MAX_SIZE="lots" is not a size/],
    [() => parseDuration('UPLOAD_EXPIRY', 'soon'), /UPLOAD_EXPIRY="soon" is not a duration/],
    [() => parseInteger('PORT', '1.5', 0, 65535), /PORT="1.5" must be an integer from 0 to 65535/],
    [() => parseBoolean('FSYNC', 'maybe'), /FSYNC="maybe" must be true or false/],
    [() => parseLogLevel('loud'), /LOG_LEVEL="loud" must be one of/],
  ])('refuses with a ConfigError naming the variable (%#)', (parse, message) => {
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(message);
  });

  it('reads booleans as the server always did', () => {
    expect(['1', 'true', 'YES', ' on '].map((v) => parseBoolean('X', v))).toEqual([true, true, true, true]);
    expect(['0', 'false', 'No', 'off'].map((v) => parseBoolean('X', v))).toEqual([false, false, false, false]);
    expect(parseLogLevel(undefined)).toBe('info');
  });
});
