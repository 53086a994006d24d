import type { Context } from 'hono';
import { documented, errors, json, route, z, type ApiApp } from '../http/openapi.js';
import { readJsonObject } from '../http/json-body.js';
import type { Identity } from '../auth/identity.js';
import type { CatalogueFile, FileFilters, OwnerScope } from '../catalogue/types.js';
import type { AppContext } from '../context.js';
import { tusError } from '../errors.js';
import { errorResponse } from '../http/respond.js';
import type { Uploads } from '../uploads/uploads.js';

/** Files per page of `GET /api/files` unless `limit` says otherwise (at most {@link MAX_LIMIT}). */
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;
const NAME_MAX = 255;

/**
 * Whose files a caller reaches: with auth off the one anonymous owner (`''`, `''`); with a user token
 * its subject and tenant. Upload tokens and signed URLs reach no file listing (403).
 */
export function scopeOf(identity: Identity | undefined): OwnerScope {
  if (!identity || identity.kind === 'anonymous') return { tenant: '', owner: '' };
  if (identity.kind === 'user') return { tenant: identity.tenant ?? '', owner: identity.owner };
  throw tusError('TOKEN_SCOPE', 'files are reached with a user token');
}

/** A file as `GET /api/files/:id` shows it. */
export const FileSchema = z.object({
  id: z.string(), tenant: z.string(), owner: z.string(), name: z.string(), key: z.string().nullable(),
  mediaType: z.string(), size: z.number().int(), sha256: z.string().nullable(), uploadId: z.string(),
  storageClass: z.enum(['standard', 'cold']), metadata: z.record(z.string(), z.string().nullable()),
  processing: z.unknown().nullable(), tags: z.array(z.string()), currentVersion: z.number().int(),
  createdAt: z.string(), finishedAt: z.string(), lastAccessedAt: z.string().nullable(), updatedAt: z.string(),
  download: z.string().describe('path the bytes download from (tus GET)'),
}).passthrough().openapi('File');

/** A file as the API shows it, with the path its bytes download from. */
function view(file: CatalogueFile, tusPath: string) {
  const { objectId: _object, ...rest } = file;
  return { ...rest, download: `${tusPath}/${file.uploadId}` };
}

function iso(c: Context, name: string): string | undefined {
  const value = c.req.query(name);
  if (value === undefined || value === '') return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw tusError('INVALID_QUERY', `${name} must be an ISO 8601 time`);
  return new Date(ms).toISOString();
}

function filtersOf(c: Context): FileFilters {
  const filters: FileFilters = {};
  const tag = c.req.query('tag');
  if (tag) filters.tag = tag;
  const mediaType = c.req.query('mediaType');
  if (mediaType) filters.mediaType = mediaType.toLowerCase();
  const namePrefix = c.req.query('namePrefix');
  if (namePrefix) filters.namePrefix = namePrefix;
  const createdFrom = iso(c, 'createdFrom');
  if (createdFrom) filters.createdFrom = createdFrom;
  const createdTo = iso(c, 'createdTo');
  if (createdTo) filters.createdTo = createdTo;
  return filters;
}

function limitOf(c: Context): number {
  const raw = c.req.query('limit');
  if (raw === undefined || raw === '') return DEFAULT_LIMIT;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_LIMIT) throw tusError('INVALID_QUERY', `limit must be 1 to ${MAX_LIMIT}`);
  return Number(raw);
}

/** `{ name?, tags? }` of a PATCH, validated. */
function patchOf(body: Record<string, unknown>): { name?: string; tags?: string[] } {
  const patch: { name?: string; tags?: string[] } = {};
  for (const key of Object.keys(body)) if (key !== 'name' && key !== 'tags') throw tusError('INVALID_REQUEST_BODY', `unknown field ${key}: only name and tags change`);
  if (body.name !== undefined) {
    if (typeof body.name !== 'string' || body.name.trim() === '' || body.name.length > NAME_MAX || /[\u0000-\u001f\u007f]/.test(body.name)) {
      throw tusError('INVALID_REQUEST_BODY', `name must be 1 to ${NAME_MAX} characters without control characters`);
    }
    patch.name = body.name.trim();
  }
  if (body.tags !== undefined) {
    if (!Array.isArray(body.tags) || body.tags.length > 32 || !body.tags.every((t) => typeof t === 'string' && t.length <= 64 && !t.includes(','))) {
      throw tusError('INVALID_REQUEST_BODY', 'tags must be a list of at most 32 strings of at most 64 characters, without commas');
    }
    patch.tags = body.tags as string[];
  }
  return patch;
}

/**
 * The files API (issue 14): `GET /api/files` (filters `tag`, `mediaType` (`video/*` for a family),
 * `namePrefix`, `createdFrom`/`createdTo`; `cursor` and `limit` pagination, newest first),
 * `GET/PATCH/DELETE /api/files/:id`. Owner-scoped like `/api/uploads/:id`: another owner's file is 404.
 */
export function mountFilesApi(app: ApiApp, deps: AppContext, uploads: Uploads): void {
  const { catalogue, config } = deps;
  const fail = (err: unknown) => errorResponse(err, deps.metrics, deps.logger);

  app.get('/api/files', async (c) => {
    try {
      const scope = scopeOf(c.get('identity'));
      const page = await catalogue.list(scope, filtersOf(c), c.req.query('cursor') || undefined, limitOf(c));
      return c.json({ files: page.files.map((f) => view(f, config.tusPath)), nextCursor: page.nextCursor ?? null });
    } catch (err) {
      return fail(err);
    }
  });

  const getFile = route({
    method: 'get', path: '/api/files/{id}', tags: ['files'], summary: 'One file of the caller',
    request: { params: z.object({ id: z.string() }) },
    responses: { 200: json(FileSchema, 'the file'), ...errors('FILE_NOT_FOUND', 'TOKEN_SCOPE', 'AUTH_REQUIRED') },
  });
  documented(app, getFile, async (c) => {
    try {
      const file = await catalogue.get(scopeOf(c.get('identity')), c.req.param('id')!);
      if (!file) throw tusError('FILE_NOT_FOUND');
      return c.json(view(file, config.tusPath));
    } catch (err) {
      return fail(err);
    }
  });

  app.patch('/api/files/:id', async (c) => {
    try {
      const scope = scopeOf(c.get('identity'));
      // Another owner's file is 404 whatever the body says.
      if (!(await catalogue.get(scope, c.req.param('id')))) throw tusError('FILE_NOT_FOUND');
      const patch = patchOf(await readJsonObject(c, deps.config.security.requestTimeoutMs));
      const file = await catalogue.update(scope, c.req.param('id'), patch);
      if (!file) throw tusError('FILE_NOT_FOUND');
      return c.json(view(file, config.tusPath));
    } catch (err) {
      return fail(err);
    }
  });

  app.delete('/api/files/:id', async (c) => {
    try {
      const removed = await uploads.handover.removeFile(scopeOf(c.get('identity')), c.req.param('id'));
      if (!removed) throw tusError('FILE_NOT_FOUND');
      return c.body(null, 204);
    } catch (err) {
      return fail(err);
    }
  });
}
