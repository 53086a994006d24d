import type { Context } from 'hono';
import { BYTES, documented, errors, json, route, SignedQuery, z, type ApiApp } from '../http/openapi.js';
import { FileIdParams, RestoredSchema, VersionListSchema, VersionParams } from './schemas/files.js';
import type { AppContext } from '../context.js';
import { tusError } from '../errors.js';
import { errorResponse } from '../http/respond.js';
import { cdnAllowed } from '../config/lifecycle.js';
import { strongEtag } from '../downloads/conditional.js';
import { serveDownload } from '../downloads/serve.js';
import type { OwnerScope } from '../catalogue/types.js';
import type { FileVersion } from '../catalogue/types.js';
import type { Identity } from '../auth/identity.js';
import { contentDisposition, contentType } from '../tus/handlers/get.js';
import { fileView, scopeOf } from './files.js';
import type { Uploads } from '../uploads/uploads.js';

/** A version number from the path: a positive integer, else 404 (no such version). */
function versionNumber(raw: string): number {
  const n = /^[1-9]\d{0,9}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n)) throw tusError('VERSION_NOT_FOUND');
  return n;
}

/** JSON view of a version (`FileVersion` in the document). */
function view(v: FileVersion, current: number) {
  return {
    version: v.version, current: v.version === current, uploadId: v.uploadId, size: v.size, sha256: v.sha256,
    name: v.name, metadata: v.metadata, createdAt: v.createdAt,
  };
}

const header = (description: string) => ({ schema: { type: 'string' as const }, description });

/** `GET /api/files/{id}/versions` */
const listVersions = route({
  method: 'get', path: '/api/files/{id}/versions', tags: ['versions'], summary: 'The versions of a file, newest first',
  description: 'Uploads whose metadata `key` names the same file of the same owner are its versions.',
  request: { params: FileIdParams },
  responses: { 200: json(VersionListSchema, 'the versions'), ...errors('FILE_NOT_FOUND', 'TOKEN_SCOPE') },
});

/** `GET /api/files/{id}/versions/{n}/content` */
const versionContent = route({
  method: 'get', path: '/api/files/{id}/versions/{n}/content', tags: ['versions'], summary: 'The bytes of one version',
  description: 'Immutable: a strong ETag (its sha256 when known), conditional requests, one `Range`; on S3 with S3_PRESIGNED_DOWNLOADS possibly a redirect to the store.',
  request: {
    params: VersionParams,
    query: SignedQuery,
    headers: z.object({
      Range: z.string().optional().describe('one range: bytes=<start>-[<end>]'),
      'If-None-Match': z.string().optional(), 'If-Range': z.string().optional(),
    }),
  },
  responses: {
    200: { description: 'the bytes', headers: { ETag: header('strong'), 'Accept-Ranges': header('bytes') }, content: { '*/*': { schema: BYTES } } },
    206: { description: 'the requested range', headers: { ETag: header('strong'), 'Content-Range': header('bytes <start>-<end>/<size>') }, content: { '*/*': { schema: BYTES } } },
    302: { description: 'download from the store (presigned URL in Location)', headers: { Location: header('presigned URL') } },
    304: { description: 'If-None-Match matched' },
    ...errors('VERSION_NOT_FOUND', 'RANGE_NOT_SATISFIABLE', 'TOKEN_SCOPE', 'STORAGE_UNAVAILABLE'),
  },
});

/** `POST /api/files/{id}/versions/{n}/restore` */
const restoreVersion = route({
  method: 'post', path: '/api/files/{id}/versions/{n}/restore', tags: ['versions'], summary: 'Make version n current, as a new version',
  description: "History only grows: the new version points at n's bytes (none is copied). At most FILE_MAX_VERSIONS versions are kept.",
  request: { params: VersionParams },
  responses: { 201: json(RestoredSchema, 'the file and its new current version'), ...errors('VERSION_NOT_FOUND', 'TOKEN_SCOPE') },
});

/** `DELETE /api/files/{id}/versions/{n}` */
const deleteVersion = route({
  method: 'delete', path: '/api/files/{id}/versions/{n}', tags: ['versions'], summary: 'Remove an older version',
  description: 'Its bytes are freed with their last reference. The current version goes with the file (DELETE /api/files/{id}).',
  request: { params: VersionParams },
  responses: { 204: { description: 'removed' }, ...errors('VERSION_NOT_FOUND', 'VERSION_IS_CURRENT', 'TOKEN_SCOPE') },
});

/**
 * The versions of a catalogued file (uploads whose metadata `key` names the same file of the same owner):
 * - `GET /api/files/:id/versions`: `{ fileId, current, versions: [...] }`, newest first;
 * - `GET /api/files/:id/versions/:n/content`: the bytes of version `n` (single `Range` supported; a
 *   strong ETag from its sha256 when known);
 * - `POST /api/files/:id/versions/:n/restore`: makes `n` current **as a new version** (history only
 *   grows; the new version points at `n`'s object, no byte is copied); answers the file and the version;
 * - `DELETE /api/files/:id/versions/:n`: removes an older version (its object is freed with its last
 *   reference); the current version is removed with the file (`DELETE /api/files/:id`), 409 here.
 * Owner-scoped like every files route (`scopeOf` in files.ts): another owner's file is 404. Restoring and pruning keep at most
 * `FILE_MAX_VERSIONS` versions.
 */
export function mountVersionsApi(app: ApiApp, deps: AppContext, uploads: Uploads): void {
  const { catalogue } = deps;
  // Whose files: the anonymous owner with auth off, a user token's subject and tenant (403 otherwise).
  const scoped = (c: Context): OwnerScope => scopeOf(c.get('identity') as Identity | undefined);

  documented(app, listVersions, async (c) => {
    try {
      const scope = scoped(c);
      const file = await catalogue.get(scope, c.req.param('id')!);
      const versions = file && (await catalogue.versions(scope, file.id));
      if (!file || !versions) throw tusError('FILE_NOT_FOUND');
      return c.json({ fileId: file.id, current: file.currentVersion, versions: versions.map((v) => view(v, file.currentVersion)) });
    } catch (err) {
      return errorResponse(err, deps.metrics, deps.logger);
    }
  });

  documented(app, versionContent, async (c) => {
    try {
      const found = await catalogue.version(scoped(c), c.req.param('id')!, versionNumber(c.req.param('n')!));
      if (!found) throw tusError('VERSION_NOT_FOUND');
      const { version, object } = found;
      const type = contentType(version);
      // A version's bytes are immutable: the same caching, conditional requests and tiers as any download.
      const identity = c.get('identity');
      const signed = identity?.kind === 'signed-url' ? c.req.query('expires') : undefined;
      return await serveDownload(deps.downloads, {
        key: object.location,
        storageClass: object.storageClass,
        size: version.size,
        etag: strongEtag({ id: version.uploadId, size: version.size, completedAt: version.createdAt, sha256: version.sha256 }),
        lastModified: new Date(version.createdAt),
        contentType: type,
        contentDisposition: contentDisposition({ metadata: { ...version.metadata, filename: version.name } }, type),
        shared: cdnAllowed(deps.config.lifecycle, { mediaType: type, tags: [] }),
      }, {
        range: c.req.header('range'), ifNoneMatch: c.req.header('if-none-match'), ifRange: c.req.header('if-range'),
        signedUntil: signed && /^\d{1,12}$/.test(signed) ? new Date(Number(signed) * 1000) : undefined,
      });
    } catch (err) {
      return errorResponse(err, deps.metrics, deps.logger);
    }
  });

  documented(app, restoreVersion, async (c) => {
    try {
      const scope = scoped(c);
      const restored = await catalogue.restore(scope, c.req.param('id')!, versionNumber(c.req.param('n')!));
      if (!restored) throw tusError('VERSION_NOT_FOUND');
      await uploads.handover.dropVersions(await catalogue.pruneVersions(restored.file.id, deps.config.dedup.maxVersions));
      // The file as every files route shows it (with `download`, without the internal object id).
      return c.json({ file: fileView(restored.file, deps.config.tusPath), version: view(restored.version, restored.file.currentVersion) }, 201);
    } catch (err) {
      return errorResponse(err, deps.metrics, deps.logger);
    }
  });

  documented(app, deleteVersion, async (c) => {
    try {
      const removed = await catalogue.removeVersion(scoped(c), c.req.param('id')!, versionNumber(c.req.param('n')!));
      if (removed === 'current') throw tusError('VERSION_IS_CURRENT');
      if (!removed) throw tusError('VERSION_NOT_FOUND');
      await uploads.handover.dropVersions(removed);
      return new Response(null, { status: 204 });
    } catch (err) {
      return errorResponse(err, deps.metrics, deps.logger);
    }
  });
}
