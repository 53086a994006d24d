import { tusError } from '../../errors.js';
import type { UploadRecord } from '../../records/types.js';
import { cdnAllowed } from '../../config/lifecycle.js';
import { strongEtag } from '../../downloads/conditional.js';
import { serveDownload, type Download, type DownloadRequest } from '../../downloads/serve.js';
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
 * GET of a finished upload (not part of tus): the bytes are immutable once finished, so it answers
 * with a strong ETag, `Cache-Control: … immutable`, 304 for a matching `If-None-Match`, a single
 * `Range` (with `If-Range`), and on S3 with `S3_PRESIGNED_DOWNLOADS` a redirect to the store (see
 * downloads/serve.ts). Content-Disposition cannot inject headers or paths. Unfinished uploads answer 409.
 */
export async function handleGet(deps: AppContext, uploads: Uploads, id: string, request: DownloadRequest): Promise<Response> {
  const { record, offset, location } = await uploads.load(id, false);
  if (!record.completedAt || offset === undefined) throw tusError('UPLOAD_INCOMPLETE');
  // Once catalogued, the catalogue knows more: the content hash, the sniffed type, tags set since, the class.
  const found = record.cataloguedAt ? await deps.catalogue.byUpload(id) : undefined;
  const type = found ? safeType(found.file.mediaType) : contentType(record);
  const tags = found ? found.file.tags : tagsOf(record);
  const download: Download = {
    key: found?.object.location ?? location,
    storageClass: found?.object.storageClass ?? 'standard',
    size: offset,
    etag: strongEtag({ id, size: offset, completedAt: record.completedAt, sha256: found?.version.sha256 ?? found?.object.sha256 ?? record.sha256 }),
    lastModified: new Date(record.completedAt),
    contentType: type,
    contentDisposition: contentDisposition(record, type),
    shared: cdnAllowed(deps.config.lifecycle, { mediaType: type, tags }),
  };
  if (found) await touchFile(deps, found.file.id, found.file.lastAccessedAt);
  return serveDownload(deps.downloads, download, request);
}

/** Downloads count as access at most this often per file (the tier policies' `cold=` clock). */
const TOUCH_EVERY_MS = 3_600_000;

/** Records a download as the file's last access, unless one was recorded within the hour. */
async function touchFile(deps: AppContext, fileId: string, lastAccessedAt: string | null): Promise<void> {
  const now = deps.now();
  if (lastAccessedAt && now.getTime() - Date.parse(lastAccessedAt) < TOUCH_EVERY_MS) return;
  await deps.catalogue.touch(fileId, now).catch((err: Error) => deps.logger.warn('recording a download as access failed', { fileId, err: err.message }));
}

/** A media type safe to serve as itself (never an active type), else `application/octet-stream`. */
function safeType(type: string): string {
  return MIME.test(type) && !ACTIVE_TYPES.test(type) ? type.toLowerCase() : 'application/octet-stream';
}

/** The upload's tags: metadata `tags`, comma-separated. */
export function tagsOf(record: Pick<UploadRecord, 'metadata'>): string[] {
  return (record.metadata.tags ?? '').split(',').map((t) => t.trim()).filter(Boolean);
}

/** The declared media type when well-formed and never rendered as active content on our origin, else octet-stream. */
export function contentType(record: Pick<UploadRecord, 'metadata'>): string {
  const declared = record.metadata.filetype ?? record.metadata.contentType ?? record.metadata.type;
  return declared && MIME.test(declared) && !ACTIVE_TYPES.test(declared) ? declared.toLowerCase() : 'application/octet-stream';
}

/**
 * `inline` only for safe types, and never for a file its uploader declared as active content (an
 * `x.html` whose bytes were sniffed as text stays an attachment); the filename is reduced to ASCII and
 * also given RFC 5987-encoded.
 */
export function contentDisposition(record: Pick<UploadRecord, 'metadata'>, type: string): string {
  const declared = record.metadata.filetype ?? record.metadata.contentType ?? record.metadata.type;
  const declaredActive = declared !== null && declared !== undefined && ACTIVE_TYPES.test(declared.split(';')[0]!.trim());
  const disposition = INLINE_TYPES.has(type) && !declaredActive ? 'inline' : 'attachment';
  const raw = record.metadata.filename ?? record.metadata.name;
  if (!raw) return disposition;
  const base = raw.split(/[\\/]/).pop()?.replace(/[\u0000-\u001f\u007f]/g, '').trim() ?? '';
  if (!base || base === '.' || base === '..') return disposition;
  const ascii = base.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%;]/g, '_');
  const encoded = encodeURIComponent(base).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${disposition}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
