import type { ApiApp } from '../http/openapi.js';
import { findRecord } from '../catalogue/records.js';
import { isResultName, isVersionArtifact, type ResultStore } from '@tus-edge/processors';
import { parseRange } from '../http/range.js';
import type { AppContext } from '../context.js';
import { errorResponse } from '../http/respond.js';
import { USER_CONTENT_HEADERS } from '../http/user-content.js';

/** Upload ids as the result stores accept them. */
const UPLOAD_ID = /^[A-Za-z0-9._-]{1,200}$/;
/** Results a browser may show inline; others download as attachments. */
const INLINE = /^(image\/(jpeg|png|webp)|video\/mp4|audio\/(mp4|mpeg)|application\/json|text\/plain)/;

function problem(deps: AppContext, status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  deps.metrics.errors.inc({ code });
  return new Response(JSON.stringify({ error: { code, message } }), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

/**
 * The processors' results, beside the uploads (`DATA_DIR/results/<id>/`, or `results/<id>/` in the S3
 * bucket; the same store the runtime writes, built from the same configuration):
 * - `GET /api/uploads/:id/results`: `{ files: [{ name, contentType, size }] }`;
 * - `GET /api/uploads/:id/results/:name`: the file, streamed, with its Content-Type, a fixed-form
 *   Content-Disposition and single-range support (a rendition can be played while it downloads).
 * Names must match the result-name rule (`[a-z0-9][a-z0-9._-]*`, no `..`): anything else is 400, an
 * unknown upload or a missing result 404.
 */
export function mountResultsApi(app: ApiApp, deps: AppContext, store: ResultStore = deps.results): void {
  const known = async (id: string) => UPLOAD_ID.test(id) && id !== '.' && id !== '..' && !!(await findRecord(deps.records, deps.catalogue, id));

  app.get('/api/uploads/:id/results', async (c) => {
    try {
      const id = c.req.param('id');
      if (!(await known(id))) return problem(deps, 404, 'UPLOAD_NOT_FOUND', 'upload not found');
      // Earlier versions are listed under /results/:name/versions (process/result-versions.ts).
      return c.json({ files: (await store.list(id)).filter((f) => !isVersionArtifact(f.name)) });
    } catch (err) {
      return errorResponse(err, deps.metrics, deps.logger);
    }
  });

  app.get('/api/uploads/:id/results/:name', async (c) => {
    try {
      const id = c.req.param('id');
      const name = c.req.param('name');
      if (!isResultName(name)) return problem(deps, 400, 'INVALID_RESULT_NAME', 'result names are lower-case letters, digits, ".", "_" and "-"');
      if (!(await known(id))) return problem(deps, 404, 'UPLOAD_NOT_FOUND', 'upload not found');
      const file = await store.head(id, name);
      if (!file) return problem(deps, 404, 'RESULT_NOT_FOUND', `no result "${name}" for this upload`);
      const headers: Record<string, string> = {
        'Content-Type': file.contentType,
        'Content-Disposition': `${INLINE.test(file.contentType) ? 'inline' : 'attachment'}; filename="${name}"`,
        'Accept-Ranges': 'bytes',
        ...USER_CONTENT_HEADERS,
        'Cache-Control': 'private, max-age=0, must-revalidate',
      };
      const header = c.req.header('range');
      const range = header ? parseRange(header, file.size) : undefined;
      if (range === 'unsatisfiable') {
        return problem(deps, 416, 'RANGE_NOT_SATISFIABLE', 'requested range not satisfiable', { 'Content-Range': `bytes */${file.size}` });
      }
      if (file.size === 0) return new Response(null, { status: 200, headers: { ...headers, 'Content-Length': '0' } });
      const got = await store.get(id, name, range, c.req.raw.signal);
      if (!got) return problem(deps, 404, 'RESULT_NOT_FOUND', `no result "${name}" for this upload`);
      const body = (ReadableStream as unknown as { from(it: AsyncIterable<Uint8Array>): ReadableStream }).from(got.stream as AsyncIterable<Uint8Array>);
      if (range) {
        headers['Content-Range'] = `bytes ${range.start}-${range.end}/${file.size}`;
        headers['Content-Length'] = String(range.end - range.start + 1);
        return new Response(body, { status: 206, headers });
      }
      headers['Content-Length'] = String(file.size);
      return new Response(body, { status: 200, headers });
    } catch (err) {
      return errorResponse(err, deps.metrics, deps.logger);
    }
  });
}

