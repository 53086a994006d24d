/**
 * The draft's header fields are Structured Fields (RFC 9651). Only what they use is parsed here:
 * Items that are a Boolean (`?1`, `?0`) or a non-negative Integer, with parameters allowed and
 * ignored. "Other values MUST cause the entire header field to be ignored": parsers return undefined.
 */

/** Strips the parameters (`;key=value`) of an Item and the surrounding whitespace. */
function bareItem(value: string): string {
  return value.split(';')[0].trim();
}

/** An sf-boolean Item, or undefined when absent or not a Boolean. */
export function parseBoolean(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const item = bareItem(value);
  return item === '?1' ? true : item === '?0' ? false : undefined;
}

/** The Boolean as the draft writes it. */
export function formatBoolean(value: boolean): string {
  return value ? '?1' : '?0';
}

/**
 * A non-negative sf-integer Item (at most 15 digits, RFC 9651 §3.3.1) that is also a safe JS
 * integer, or undefined when absent, negative or not an Integer.
 */
export function parseInteger(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const item = bareItem(value);
  if (!/^\d{1,15}$/.test(item)) return undefined;
  const n = Number(item);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A Dictionary of Integers (`Upload-Limit`), keys in the given order. */
export function formatDictionary(members: Record<string, number>): string {
  return Object.entries(members)
    .map(([key, n]) => `${key}=${Math.max(0, Math.floor(n))}`)
    .join(', ');
}

/**
 * The file name of a `Content-Disposition` request header (`filename*=UTF-8''…` preferred over
 * `filename="…"`), reduced to its last path segment; undefined when there is none. The draft names
 * this header for the representation's file name; it becomes the upload's `filename` metadata.
 */
export function dispositionFilename(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const extended = /filename\*\s*=\s*UTF-8''([^;\s]+)/i.exec(value);
  let name: string | undefined;
  if (extended) {
    try {
      name = decodeURIComponent(extended[1]);
    } catch {
      name = undefined;
    }
  }
  if (name === undefined) {
    const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(value);
    name = plain ? (plain[1] ?? plain[2]).replace(/\\(.)/g, '$1') : undefined;
  }
  const base = name?.split(/[\\/]/).pop()?.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return base && base !== '.' && base !== '..' ? base : undefined;
}
