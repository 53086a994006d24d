/**
 * The helpers both packages' config modules validate raw environment strings with. Each error names
 * the variable and shows what a valid value looks like.
 */

/** Thrown for invalid or contradictory settings; the message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4,
};
const DURATION_UNITS: Record<string, number> = { '': 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `1073741824`, `512MiB`, `16G` into bytes; refuses less than `minBytes` (default 1) and 2^53 or more. */
export function parseSize(name: string, value: string, minBytes = 1): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new ConfigError(`${name}="${value}" is not a size (examples: 1048576, 512MiB, 16GiB)`);
  }
  const bytes = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes < minBytes) {
    throw new ConfigError(`${name}="${value}" must be a ${minBytes === 1 ? 'positive size' : `size of at least ${minBytes} bytes`} below 2^53 bytes`);
  }
  return bytes;
}

/** Parses `500` (milliseconds), `500ms`, `30s`, `15m`, `24h`, `7d` into milliseconds; refuses less than `minMs` (default 0). */
export function parseDuration(name: string, value: string, minMs = 0): number {
  const m = /^(\d+)\s*(ms|s|m|h|d)?$/i.exec(value.trim());
  if (!m) throw new ConfigError(`${name}="${value}" is not a duration (examples: 500ms, 30s, 15m, 24h, 7d)`);
  const ms = Number(m[1]) * DURATION_UNITS[(m[2] ?? '').toLowerCase()];
  if (ms < minMs) throw new ConfigError(`${name}="${value}" must be at least ${minMs} ms`);
  return ms;
}

/** Parses a whole number from `min` to `max`. */
export function parseInteger(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(`${name}="${value}" must be an integer from ${min} to ${max}`);
  }
  return Number(value);
}

/** `1`, `true`, `yes`, `on` / `0`, `false`, `no`, `off`, in any case. */
export function parseBoolean(name: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`${name}="${value}" must be true or false`);
}

/** `LOG_LEVEL`, default `info`. */
export function parseLogLevel(value: string | undefined): LogLevel {
  const level = (value ?? 'info').toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(level)) throw new ConfigError(`LOG_LEVEL="${value}" must be one of ${LOG_LEVELS.join(', ')}`);
  return level;
}
