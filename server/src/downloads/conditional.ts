/**
 * Validators and conditional requests for downloads of finished (immutable) files (RFC 9110 §8.8,
 * §13): strong entity tags, `If-None-Match` (→ 304), `If-Range` (a range only while it still
 * names this representation) and the `Cache-Control` a download gets.
 */

/** What identifies the bytes of a finished upload. */
export interface ValidatorSource {
  /** Upload id whose bytes these are. */
  id: string;
  size: number;
  /** When the upload finished (ISO time). */
  completedAt: string;
  /** Hex sha256 of the bytes, once known (the fingerprint processor or the catalogue). */
  sha256?: string | null;
}

/**
 * A strong entity tag: the hex sha256 (`"<hex>"`) when the content hash is known (the same bytes have the same
 * tag whoever uploaded them), else `"<id>.<size>.<completion ms in base 36>"`, which never changes
 * either: a finished upload's bytes are immutable.
 */
export function strongEtag(source: ValidatorSource): string {
  if (source.sha256 && /^[0-9a-f]{64}$/i.test(source.sha256)) return `"${source.sha256.toLowerCase()}"`;
  return `"${source.id}.${source.size}.${Date.parse(source.completedAt).toString(36)}"`;
}

/** The entity tags of an `If-None-Match` / `If-Match` list, or `'*'`. */
function tagsOf(header: string): string[] | '*' {
  if (header.trim() === '*') return '*';
  return [...header.matchAll(/\s*(W\/)?("[^"]*")\s*(,|$)/g)].map((m) => `${m[1] ?? ''}${m[2]}`);
}

/**
 * "An origin server MUST NOT perform the requested method if the condition evaluates to false; instead,
 * the origin server MUST respond with … 304 (Not Modified) if the request method is GET or HEAD."
 * The condition is false when any listed tag matches by **weak** comparison (RFC 9110 §13.1.2), or for `*`.
 */
export function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const tags = tagsOf(ifNoneMatch);
  if (tags === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  return tags.some((t) => t.replace(/^W\//, '') === opaque);
}

/**
 * `If-Range` (RFC 9110 §13.1.5): the range applies only when the validator still matches, by **strong**
 * comparison for an entity tag ("A server MUST NOT use a weak entity tag as a validator"), or exactly
 * for a date against `Last-Modified`; otherwise the whole representation is sent (200).
 */
export function rangeStillValid(ifRange: string | undefined, etag: string, lastModified: Date | undefined): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) return !value.startsWith('W/') && !etag.startsWith('W/') && value === etag;
  const date = Date.parse(value);
  if (Number.isNaN(date) || !lastModified) return false;
  return Math.floor(lastModified.getTime() / 1000) === Math.floor(date / 1000);
}

export interface CachePolicy {
  /** Whether shared caches (a CDN) may keep the response (the file's policy, and no private access). */
  shared: boolean;
  /** `max-age` in seconds. */
  maxAgeSeconds: number;
}

/**
 * `public, max-age=…, immutable` when shared caches may keep it; else `private, max-age=…, immutable`
 * (the browser of whoever may read it keeps it; nothing shared does).
 */
export function cacheControl(policy: CachePolicy): string {
  const age = Math.max(0, Math.floor(policy.maxAgeSeconds));
  return `${policy.shared ? 'public' : 'private'}, max-age=${age}, immutable`;
}
