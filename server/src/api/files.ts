import { documented, errors, json, jsonBody, queryOf, route, z, type ApiApp } from '../http/openapi.js';
import { DEFAULT_LIMIT, FileIdParams, FileListQuery, FileListSchema, FilePatchSchema, FileSchema } from './schemas/files.js';
import type { Identity } from '../auth/identity.js';
import type { CatalogueFile, FileFilters, OwnerScope } from '../catalogue/types.js';
import type { AppContext } from '../context.js';
import { tusError } from '../errors.js';
import { errorResponse } from '../http/respond.js';
import type { Uploads } from '../uploads/uploads.js';

/**
 * Whose files a caller reaches: with auth off the one anonymous owner (`''`, `''`); with a user token
 * its subject and tenant. Upload tokens and signed URLs reach no file listing (403).
 */
export function scopeOf(identity: Identity | undefined): OwnerScope {
  if (!identity || identity.kind === 'anonymous') return { tenant: '', owner: '' };
  if (identity.kind === 'user') return { tenant: identity.tenant ?? '', owner: identity.owner };
  throw tusError('TOKEN_SCOPE', 'files are reached with a user token');
}

export { FileSchema } from './schemas/files.js';

/** A file as the API shows it ({@link FileSchema}), with the path its bytes download from. */
export function fileView(file: CatalogueFile, tusPath: string) {
  const { objectId: _object, ...rest } = file;
  return { ...rest, download: `${tusPath}/${file.uploadId}` };
}

/** `GET /api/files` */
const listFiles = route({
  method: 'get', path: '/api/files', tags: ['files'], summary: "The caller's files, newest first",
  description: 'Filters combine; `cursor` and `limit` page through them.',
  request: { query: FileListQuery },
  responses: { 200: json(FileListSchema, 'a page of files'), ...errors('INVALID_QUERY', 'TOKEN_SCOPE') },
});

/** `GET /api/files/{id}` */
const getFile = route({
  method: 'get', path: '/api/files/{id}', tags: ['files'], summary: 'One file of the caller',
  request: { params: FileIdParams },
  responses: { 200: json(FileSchema, 'the file'), ...errors('FILE_NOT_FOUND', 'TOKEN_SCOPE') },
});

/** `PATCH /api/files/{id}` */
const patchFile = route({
  method: 'patch', path: '/api/files/{id}', tags: ['files'], summary: 'Rename or retag a file',
  request: { params: FileIdParams, body: { required: true, content: { 'application/json': { schema: FilePatchSchema } } } },
  responses: { 200: json(FileSchema, 'the file as changed'), ...errors('FILE_NOT_FOUND', 'INVALID_REQUEST_BODY', 'TOKEN_SCOPE', 'REQUEST_TIMEOUT') },
});

/** `DELETE /api/files/{id}` */
const deleteFile = route({
  method: 'delete', path: '/api/files/{id}', tags: ['files'], summary: 'Delete a file with all its versions',
  description: "Its bytes are freed once no other file (deduplicated content) points at them.",
  request: { params: FileIdParams },
  responses: { 204: { description: 'deleted' }, ...errors('FILE_NOT_FOUND', 'TOKEN_SCOPE') },
});

/** The catalogue's filters from a validated query. */
function filtersOf(query: z.infer<typeof FileListQuery>): FileFilters {
  const filters: FileFilters = {};
  if (query.tag) filters.tag = query.tag;
  if (query.mediaType) filters.mediaType = query.mediaType.toLowerCase();
  if (query.namePrefix) filters.namePrefix = query.namePrefix;
  if (query.createdFrom) filters.createdFrom = new Date(Date.parse(query.createdFrom)).toISOString();
  if (query.createdTo) filters.createdTo = new Date(Date.parse(query.createdTo)).toISOString();
  return filters;
}

/**
 * The files API (issue 14): `GET /api/files` (filters `tag`, `mediaType` (`video/*` for a family),
 * `namePrefix`, `createdFrom`/`createdTo`; `cursor` and `limit` pagination, newest first),
 * `GET/PATCH/DELETE /api/files/:id`. Owner-scoped like `/api/uploads/:id`: another owner's file is 404.
 */
export function mountFilesApi(app: ApiApp, deps: AppContext, uploads: Uploads): void {
  const { catalogue, config } = deps;
  const fail = (err: unknown) => errorResponse(err, deps.metrics, deps.logger);

  documented(app, listFiles, async (c) => {
    try {
      const scope = scopeOf(c.get('identity'));
      const query = queryOf(c, FileListQuery);
      const page = await catalogue.list(scope, filtersOf(query), query.cursor, query.limit ? Number(query.limit) : DEFAULT_LIMIT);
      return c.json({ files: page.files.map((f) => fileView(f, config.tusPath)), nextCursor: page.nextCursor ?? null });
    } catch (err) {
      return fail(err);
    }
  });

  documented(app, getFile, async (c) => {
    try {
      const file = await catalogue.get(scopeOf(c.get('identity')), c.req.param('id')!);
      if (!file) throw tusError('FILE_NOT_FOUND');
      return c.json(fileView(file, config.tusPath));
    } catch (err) {
      return fail(err);
    }
  });

  documented(app, patchFile, async (c) => {
    try {
      const scope = scopeOf(c.get('identity'));
      const id = c.req.param('id')!;
      // Another owner's file is 404 whatever the body says.
      if (!(await catalogue.get(scope, id))) throw tusError('FILE_NOT_FOUND');
      const body = await jsonBody(c, FilePatchSchema, deps.config.security.requestTimeoutMs);
      const file = await catalogue.update(scope, id, { ...body, ...(body.name !== undefined ? { name: body.name.trim() } : {}) });
      if (!file) throw tusError('FILE_NOT_FOUND');
      return c.json(fileView(file, config.tusPath));
    } catch (err) {
      return fail(err);
    }
  });

  documented(app, deleteFile, async (c) => {
    try {
      const removed = await uploads.handover.removeFile(scopeOf(c.get('identity')), c.req.param('id')!);
      if (!removed) throw tusError('FILE_NOT_FOUND');
      return c.body(null, 204);
    } catch (err) {
      return fail(err);
    }
  });
}
