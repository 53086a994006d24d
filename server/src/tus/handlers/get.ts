import { USER_CONTENT_HEADERS } from '../../http/user-content.js';
import { tusError } from '../../errors.js';
import type { UploadRecord } from '../../records/types.js';
import { parseRange } from '../../http/range.js';
import type { AppContext } from '../../context.js';
import type { Uploads } from '../../uploads/uploads.js';

/** Types a browser may render inline; everything else is served as an attachment. */
const INLINE_TYPES = new Set([
  'text/plain', 'image/png', 'image/jpeg', 'image/gif', 'image/bmp', 'image/webp', 'audio/wav', 'audio/webm',
  'audio/ogg', 'audio/mpeg', 'video/mp4', 'video/webm', 'video/ogg', 'application/ogg',
]);
/**
 * Types a browser would run as a document or script on our origin: served as bytes, never as
 * themselves ("never serve user content as renderable HTML").
 */
const ACTIVE_TYPES = /^(text\/html|application\/xhtml\+xml|image\/svg\+xml|text\/xml|application\/xml|text\/javascript|application\/(x-)?javascript|application\/ecmascript|text\/xsl|multipart\/x-mixed-replace)$/i;

const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i;

/**
 * GET of a finished upload (not part of tus). Supports a single `Range` (RFC 9110: several ranges
 * are answered with the whole body), and sets a Content-Disposition that cannot inject headers or
 * paths. Unfinished uploads answer 409.
 */
export async function handleGet(deps: AppContext, uploads: Uploads, id: string, rangeHeader: string | undefined): Promise<Response> {
  const { record, offset, location } = await uploads.load(id, false);
  if (!record.completedAt || offset === undefined) throw tusError('UPLOAD_INCOMPLETE');
  const size = offset;
  const type = contentType(record);
  const headers: Record<string, string> = {
    'Content-Type': type,
    'Content-Disposition': contentDisposition(record, type),
    'Accept-Ranges': 'bytes',
    ...USER_CONTENT_HEADERS,
    'Cache-Control': 'private, max-age=0, must-revalidate',
    ETag: `"${id}-${size}"`,
  };
  const range = rangeHeader ? parseRange(rangeHeader, size) : undefined;
  if (range === 'unsatisfiable') {
    throw tusError('RANGE_NOT_SATISFIABLE', rangeHeader, { 'Content-Range': `bytes */${size}` });
  }
  if (size === 0) return new Response(null, { status: 200, headers: { ...headers, 'Content-Length': '0' } });
  const stream = await deps.storage.read(location, range);
  const web = ReadableStreamFrom(stream);
  if (range) {
    headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
    headers['Content-Length'] = String(range.end - range.start + 1);
    return new Response(web, { status: 206, headers });
  }
  headers['Content-Length'] = String(size);
  return new Response(web, { status: 200, headers });
}

function ReadableStreamFrom(stream: NodeJS.ReadableStream): ReadableStream {
  // Node streams are async iterables; Response accepts them through ReadableStream.from.
  return (ReadableStream as unknown as { from(it: AsyncIterable<Uint8Array>): ReadableStream }).from(
    stream as unknown as AsyncIterable<Uint8Array>,
  );
}

/** The declared media type when well-formed and never rendered as active content on our origin, else octet-stream. */
export function contentType(record: Pick<UploadRecord, 'metadata'>): string {
  const declared = record.metadata.filetype ?? record.metadata.contentType ?? record.metadata.type;
  return declared && MIME.test(declared) && !ACTIVE_TYPES.test(declared) ? declared.toLowerCase() : 'application/octet-stream';
}

/** `inline` only for safe types; the filename is reduced to ASCII and also given RFC 5987-encoded. */
export function contentDisposition(record: Pick<UploadRecord, 'metadata'>, type: string): string {
  const disposition = INLINE_TYPES.has(type) ? 'inline' : 'attachment';
  const raw = record.metadata.filename ?? record.metadata.name;
  if (!raw) return disposition;
  const base = raw.split(/[\\/]/).pop()?.replace(/[\u0000-\u001f\u007f]/g, '').trim() ?? '';
  if (!base || base === '.' || base === '..') return disposition;
  const ascii = base.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%;]/g, '_');
  const encoded = encodeURIComponent(base).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${disposition}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
