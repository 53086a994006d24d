import type { AppContext } from '../context.js';
import { cdnAllowed } from '../config/lifecycle.js';
import { strongEtag } from '../downloads/conditional.js';
import { serveDownload } from '../downloads/serve.js';
import { tusError } from '../errors.js';
import { errorResponse } from '../http/respond.js';
import { documented, errors, route, z, type ApiApp } from '../http/openapi.js';
import { contentDisposition, safeType, touchFile } from '../tus/handlers/get.js';
import { scopeOf } from './files.js';

const header = (description: string) => ({ description, schema: { type: 'string' as const } });

/** What every download response carries (see downloads/serve.ts). */
const VALIDATORS = {
  ETag: header('strong entity tag (from the sha256 when known)'),
  'Last-Modified': header('when the version was finished'),
  'Cache-Control': header('`immutable`; `public` only where the file\'s policy allows a CDN and the request was not a private, authenticated one'),
};

/** The bytes, as OpenAPI 3.1 describes binary content. */
const BINARY = z.string().openapi({ type: 'string', format: 'binary', description: 'the file\'s bytes' });

const getContent = route({
  method: 'get', path: '/api/files/{id}/content', tags: ['files'],
  summary: 'The bytes of a file of the caller (its current version)',
  description:
    'Reads the bytes where the catalogue says they are: another upload\'s object once deduplicated, the cold tier once moved. '
    + 'A single `Range` is honoured (with `If-Range`); several ranges get the whole body. `If-None-Match` with the ETag answers 304. '
    + 'With `S3_PRESIGNED_DOWNLOADS=true` the answer is a 302 to a presigned URL of the store. Counts as an access (tier policies).',
  request: {
    params: z.object({ id: z.string() }),
    headers: z.object({
      range: z.string().optional().openapi({ description: 'one byte range, e.g. `bytes=0-1023`' }),
      'if-none-match': z.string().optional(),
      'if-range': z.string().optional(),
    }),
  },
  responses: {
    200: {
      description: 'the whole file',
      headers: {
        ...VALIDATORS, 'Content-Length': header('its size'), 'Content-Disposition': header('`inline` for safe types, else `attachment`; the file\'s name'),
        'Accept-Ranges': header('`bytes`'),
      },
      content: { 'application/octet-stream': { schema: BINARY } },
    },
    206: {
      description: 'the requested range',
      headers: { ...VALIDATORS, 'Content-Range': header('`bytes <start>-<end>/<size>`'), 'Content-Length': header('the range\'s length') },
      content: { 'application/octet-stream': { schema: BINARY } },
    },
    302: { description: 'to a presigned URL of the store (`S3_PRESIGNED_DOWNLOADS=true`)', headers: { Location: header('the presigned URL'), ETag: VALIDATORS.ETag } },
    304: { description: 'not modified (`If-None-Match` names this ETag)', headers: VALIDATORS },
    ...errors('FILE_NOT_FOUND', 'TOKEN_SCOPE', 'AUTH_REQUIRED', 'RANGE_NOT_SATISFIABLE'),
  },
});

/**
 * `GET /api/files/{id}/content` (issue 14): the bytes of a file's current version, owner-scoped like
 * every files route (another owner's file is 404). The media type is the catalogue's (sniffed when
 * known), never an active type; `Content-Disposition` takes the file's name (renamed by PATCH); the
 * ETag, caching, conditional requests and redirects are those of every download (downloads/serve.ts).
 */
export function mountFileContentApi(app: ApiApp, deps: AppContext): void {
  const { catalogue } = deps;
  documented(app, getContent, async (c) => {
    try {
      const file = await catalogue.get(scopeOf(c.get('identity')), c.req.param('id')!);
      const found = file && (await catalogue.byUpload(file.uploadId));
      if (!file || !found) throw tusError('FILE_NOT_FOUND');
      const { version, object } = found;
      const type = safeType(file.mediaType);
      await touchFile(deps, file.id, file.lastAccessedAt);
      return await serveDownload(deps.downloads, {
        key: object.location,
        storageClass: object.storageClass,
        size: version.size,
        // The same tag as the tus GET of its upload: caches share it.
        etag: strongEtag({ id: version.uploadId, size: version.size, completedAt: version.createdAt, sha256: version.sha256 ?? object.sha256 }),
        lastModified: new Date(version.createdAt),
        contentType: type,
        // The declared type counts too: a file declared as active content stays an attachment.
        contentDisposition: contentDisposition({ metadata: { ...version.metadata, filename: file.name } }, type),
        shared: cdnAllowed(deps.config.lifecycle, { mediaType: type, tags: file.tags }),
      }, { range: c.req.header('range'), ifNoneMatch: c.req.header('if-none-match'), ifRange: c.req.header('if-range') });
    } catch (err) {
      return errorResponse(err, deps.metrics, deps.logger);
    }
  });
}
