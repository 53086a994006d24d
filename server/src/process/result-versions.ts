import { isResultName, versionName, versionsOf, type ResultStore } from '@tus-edge/processors';
import { documented, errors, json, route, z, type ApiApp } from '../http/openapi.js';
import type { AppContext } from '../context.js';
import { tusError } from '../errors.js';
import { errorResponse } from '../http/respond.js';
import { USER_CONTENT_HEADERS } from '../http/user-content.js';

const UPLOAD_ID = /^[A-Za-z0-9._-]{1,200}$/;

const VersionSchema = z
  .object({
    version: z.number().int(), kind: z.string(), runId: z.string().describe('the run that produced it: the upload event, or a processing job id'),
    supersededBy: z.string().describe('the processing job that ran the kind again'), archivedAt: z.string(), finishedAt: z.string().optional(),
    template: z.string().optional().describe('prompt template name@version (generate)'), options: z.record(z.string(), z.unknown()).optional(),
    size: z.number().int(), contentType: z.string(),
  })
  .openapi('ResultVersion');
const VersionsSchema = z.object({ name: z.string(), versions: z.array(VersionSchema) }).openapi('ResultVersions');

/**
 * Earlier versions of a result (a processing request ran its kind again; the current stays at
 * `GET /api/uploads/{id}/results/{name}`):
 * - `GET /api/uploads/{id}/results/{name}/versions`: `{ name, versions }`, oldest first, each with the
 *   run that made it, the template and options it recorded;
 * - `GET /api/uploads/{id}/results/{name}/versions/{n}`: the bytes of version `n`.
 * Reached like the results themselves (the auth middleware scopes `/api/uploads/{id}/...` to its owner).
 */
export function mountResultVersionsApi(app: ApiApp, deps: AppContext, store: ResultStore = deps.results): void {
  const fail = (err: unknown) => errorResponse(err, deps.metrics, deps.logger);
  const check = async (id: string, name: string) => {
    // An upload whose record ended (CATALOGUE_RECORD_GRACE after its hand-over) is known to the catalogue.
    const known = UPLOAD_ID.test(id) && id !== '.' && id !== '..' && (!!(await deps.records.get(id)) || !!(await deps.catalogue.byUpload(id)));
    if (!known) throw tusError('UPLOAD_NOT_FOUND');
    if (!isResultName(name)) throw tusError('RESULT_VERSION_NOT_FOUND', 'result names are lower-case letters, digits, ".", "_" and "-"');
  };

  const list = route({
    method: 'get', path: '/api/uploads/{id}/results/{name}/versions', tags: ['results'], summary: 'Earlier versions of a result',
    request: { params: z.object({ id: z.string(), name: z.string() }) },
    responses: { 200: json(VersionsSchema, 'the versions, oldest first'), ...errors('UPLOAD_NOT_FOUND', 'RESULT_VERSION_NOT_FOUND') },
  });
  documented(app, list, async (c) => {
    try {
      const { id, name } = c.req.param() as { id: string; name: string };
      await check(id, name);
      const versions = await versionsOf(store, id, name);
      return c.json({
        name,
        versions: versions.map(({ files, ...v }) => {
          const file = files.find((f) => f.name === name)!;
          return { ...v, size: file.size, contentType: file.contentType };
        }),
      });
    } catch (err) {
      return fail(err);
    }
  });

  const read = route({
    method: 'get', path: '/api/uploads/{id}/results/{name}/versions/{n}', tags: ['results'], summary: 'One earlier version of a result',
    request: { params: z.object({ id: z.string(), name: z.string(), n: z.string() }) },
    responses: { 200: { description: 'the bytes of that version, with its content type' }, ...errors('UPLOAD_NOT_FOUND', 'RESULT_VERSION_NOT_FOUND') },
  });
  documented(app, read, async (c) => {
    try {
      const { id, name, n } = c.req.param() as { id: string; name: string; n: string };
      await check(id, name);
      const version = /^[1-9]\d{0,5}$/.test(n) ? (await versionsOf(store, id, name)).find((v) => v.version === Number(n)) : undefined;
      if (!version) throw tusError('RESULT_VERSION_NOT_FOUND');
      const got = await store.get(id, versionName(version.version, version.kind, name), undefined, c.req.raw.signal);
      if (!got) throw tusError('RESULT_VERSION_NOT_FOUND');
      const body = (ReadableStream as unknown as { from(it: AsyncIterable<Uint8Array>): ReadableStream }).from(got.stream as AsyncIterable<Uint8Array>);
      return new Response(body, {
        status: 200,
        headers: {
          'Content-Type': got.file.contentType, 'Content-Length': String(got.file.size),
          'Content-Disposition': `attachment; filename="v${n}.${name}"`, ...USER_CONTENT_HEADERS, 'Cache-Control': 'private, max-age=0, must-revalidate',
        },
      });
    } catch (err) {
      return fail(err);
    }
  });
}
