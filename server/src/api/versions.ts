import type { Context } from 'hono';
import type { ApiApp } from '../http/openapi.js';
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
import { scopeOf } from './files.js';
import type { Uploads } from '../uploads/uploads.js';

/** A version number from the path: a positive integer, else 404 (no such version). */
function versionNumber(raw: string): number {
  const n = /^[1-9]\d{0,9}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n)) throw tusError('VERSION_NOT_FOUND');
  return n;
}

/** JSON view of a version. */
function view(v: FileVersion, current: number): Record<string, unknown> {
  return {
    version: v.version, current: v.version === current, uploadId: v.uploadId, size: v.size, sha256: v.sha256,
    name: v.name, metadata: v.metadata, createdAt: v.createdAt,
  };
}

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

  app.get('/api/files/:id/versions', async (c) => {
    try {
      const scope = scoped(c);
      const file = await catalogue.get(scope, c.req.param('id'));
      const versions = file && (await catalogue.versions(scope, file.id));
      if (!file || !versions) throw tusError('FILE_NOT_FOUND');
      return c.json({ fileId: file.id, current: file.currentVersion, versions: versions.map((v) => view(v, file.currentVersion)) });
    } catch (err) {
      return errorResponse(err, deps.metrics, deps.logger);
    }
  });

  app.get('/api/files/:id/versions/:n/content', async (c) => {
    try {
      const found = await catalogue.version(scoped(c), c.req.param('id'), versionNumber(c.req.param('n')));
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

  app.post('/api/files/:id/versions/:n/restore', async (c) => {
    try {
      const scope = scoped(c);
      const restored = await catalogue.restore(scope, c.req.param('id'), versionNumber(c.req.param('n')));
      if (!restored) throw tusError('VERSION_NOT_FOUND');
      await uploads.handover.dropVersions(await catalogue.pruneVersions(restored.file.id, deps.config.dedup.maxVersions));
      return c.json({ file: restored.file, version: view(restored.version, restored.file.currentVersion) }, 201);
    } catch (err) {
      return errorResponse(err, deps.metrics, deps.logger);
    }
  });

  app.delete('/api/files/:id/versions/:n', async (c) => {
    try {
      const removed = await catalogue.removeVersion(scoped(c), c.req.param('id'), versionNumber(c.req.param('n')));
      if (removed === 'current') throw tusError('VERSION_IS_CURRENT');
      if (!removed) throw tusError('VERSION_NOT_FOUND');
      await uploads.handover.dropVersions(removed);
      return new Response(null, { status: 204 });
    } catch (err) {
      return errorResponse(err, deps.metrics, deps.logger);
    }
  });
}
