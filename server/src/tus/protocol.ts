/**
 * tus 1.0.0 constants and header parsers. Parsers throw catalogue errors; they never touch storage.
 */
import { Metadata } from '@tus/server';
import { tusError } from '../errors.js';

export const TUS_VERSION = '1.0.0';

export const EXTENSIONS = [
  'creation',
  'creation-with-upload',
  'creation-defer-length',
  'expiration',
  'checksum',
  'checksum-trailer',
  'termination',
  'concatenation',
  'concatenation-unfinished',
] as const;

export const OFFSET_CONTENT_TYPE = 'application/offset+octet-stream';

/** Headers browsers may read from our responses. */
export const EXPOSED_HEADERS = [
  'Location', 'Upload-Offset', 'Upload-Length', 'Upload-Defer-Length', 'Upload-Metadata', 'Upload-Concat',
  'Upload-Expires', 'Tus-Resumable', 'Tus-Version', 'Tus-Extension', 'Tus-Max-Size', 'Tus-Checksum-Algorithm',
  'X-Request-Id', 'Content-Range', 'Content-Disposition', 'Retry-After',
  // Resumable Uploads for HTTP (server/src/ietf/).
  'Upload-Complete', 'Upload-Incomplete', 'Upload-Limit', 'Accept-Patch',
].join(', ');

/** Headers browsers may send. */
export const ALLOWED_HEADERS = [
  'Authorization', 'Content-Type', 'Origin', 'X-Requested-With', 'X-Request-Id', 'X-HTTP-Method-Override',
  'Tus-Resumable', 'Upload-Length', 'Upload-Offset', 'Upload-Metadata', 'Upload-Defer-Length', 'Upload-Concat',
  'Upload-Checksum', 'Range',
  // Resumable Uploads for HTTP (server/src/ietf/).
  'Upload-Draft-Interop-Version', 'Upload-Complete', 'Upload-Incomplete', 'Content-Disposition',
].join(', ');

export const ALLOWED_METHODS = 'POST, HEAD, PATCH, OPTIONS, DELETE, GET';

const INTEGER = /^\d{1,16}$/;

/** A non-negative integer header value no larger than 2^53 - 1, or the given error. */
function parseInteger(value: string, code: 'INVALID_LENGTH' | 'INVALID_OFFSET'): number {
  const trimmed = value.trim();
  const n = Number(trimmed);
  if (!INTEGER.test(trimmed) || !Number.isSafeInteger(n)) throw tusError(code, JSON.stringify(value));
  return n;
}

export function parseUploadLength(value: string): number {
  return parseInteger(value, 'INVALID_LENGTH');
}

export function parseUploadOffset(value: string | undefined | null): number {
  if (value === undefined || value === null) throw tusError('MISSING_OFFSET');
  return parseInteger(value, 'INVALID_OFFSET');
}

/** Decodes `Upload-Metadata`; an empty header means no metadata. */
export function parseMetadata(value: string | undefined | null, maxBytes: number): Record<string, string | null> {
  if (value === undefined || value === null || value.trim() === '') return {};
  if (Buffer.byteLength(value) > maxBytes) throw tusError('METADATA_TOO_LARGE', `limit is ${maxBytes} bytes`);
  try {
    return Metadata.parse(value);
  } catch {
    throw tusError('INVALID_METADATA');
  }
}

/** True when the Content-Type is exactly the tus chunk type (parameters allowed). */
export function isOffsetContentType(value: string | undefined | null): boolean {
  return (value ?? '').split(';')[0].trim().toLowerCase() === OFFSET_CONTENT_TYPE;
}

export type ConcatHeader = { kind: 'partial' } | { kind: 'final'; urls: string[] };

/** Parses `Upload-Concat: partial` or `Upload-Concat: final;<url> <url>`. */
export function parseConcat(value: string): ConcatHeader {
  const trimmed = value.trim();
  if (trimmed === 'partial') return { kind: 'partial' };
  if (trimmed.startsWith('final;')) {
    const urls = trimmed.slice('final;'.length).trim().split(/\s+/).filter(Boolean);
    if (urls.length > 0) return { kind: 'final', urls };
  }
  throw tusError('INVALID_CONCAT', JSON.stringify(value));
}

/**
 * Resolves a partial upload URL (absolute or relative) to an id served under `tusPath`,
 * or undefined when it points elsewhere.
 */
export function idFromUploadUrl(url: string, tusPath: string): string | undefined {
  let pathname: string;
  try {
    pathname = new URL(url, 'http://placeholder').pathname;
  } catch {
    return undefined;
  }
  const prefix = `${tusPath}/`;
  if (!pathname.startsWith(prefix)) return undefined;
  const id = pathname.slice(prefix.length);
  return /^[A-Za-z0-9_-]{1,128}$/.test(id) ? id : undefined;
}

/** HTTP-date (RFC 7231) for Upload-Expires. */
export function httpDate(iso: string): string {
  return new Date(iso).toUTCString();
}
