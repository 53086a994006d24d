/**
 * Parameters of the load tests: the only module that reads `__ENV` (k6's environment, set with
 * `k6 run -e NAME=value` or the process environment). A malformed value stops k6 at init with a
 * message naming the variable.
 */

/** A string parameter. */
export function str(name: string, def: string): string {
  const raw = __ENV[name];
  return raw === undefined || raw === '' ? def : raw;
}

/** An integer parameter, at least `min`. */
export function int(name: string, def: number, min = 0): number {
  const raw = str(name, String(def));
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}="${raw}" must be an integer >= ${min}`);
  return n;
}

/** A boolean parameter: 1/true/yes/on or 0/false/no/off. */
export function bool(name: string, def: boolean): boolean {
  const raw = str(name, String(def)).toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new Error(`${name}="${raw}" must be true or false`);
}

const UNITS: { [unit: string]: number } = {
  '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3,
};

/** A size in bytes: `1048576`, `256KiB`, `8MiB`, `1GiB` (units are powers of 1024). */
export function size(name: string, def: string): number {
  const raw = str(name, def);
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw.trim());
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined || Number(m[1]) * unit < 1) {
    throw new Error(`${name}="${raw}" is not a size (examples: 1048576, 256KiB, 8MiB, 1GiB)`);
  }
  return Math.floor(Number(m[1]) * unit);
}

/** A k6 duration string (`500ms`, `30s`, `2m`, `1h30m`), validated. */
export function duration(name: string, def: string): string {
  const raw = str(name, def);
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(raw)) throw new Error(`${name}="${raw}" is not a duration (examples: 500ms, 30s, 2m)`);
  return raw;
}

/** The tus creation endpoint (`TUS_URL`): the local server, the stack's nginx, or an ingress. */
export const TUS_URL = str('TUS_URL', 'http://127.0.0.1:1080/files/');

/** Delete each upload once the test is done with it (`CLEANUP`, default true). */
export const CLEANUP = bool('CLEANUP', true);
