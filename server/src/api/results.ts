import { BYTES, documented, errors, json, route, SignedQuery, z, type ApiApp } from '../http/openapi.js';
import { findRecord } from '../catalogue/records.js';
import { isResultName, isVersionArtifact, type ResultStore } from '@tus-edge/processors';
import { tusError } from '../errors.js';
import { ResultListSchema, ResultParams, UploadIdParams } from './schemas/uploads.js';
import { parseRange } from '../http/range.js';
import type { AppContext } from '../context.js';
import { errorResponse } from '../http/respond.js';
import { USER_CONTENT_HEADERS } from '../http/user-content.js';

/** Upload ids as the result stores accept them. */
const UPLOAD_ID = /^[A-Za-z0-9._-]{1,200}$/;
/** Results a browser may show inline; others download as attachments. */
const INLINE = /^(image\/(jpeg|png|webp)|video\/mp4|audio\/(mp4|mpeg)|application\/json|text\/plain)/;

/** `GET /api/uploads/{id}/results` */
const listResults = route({
  method: 'get', path: '/api/uploads/{id}/results', tags: ['results'], summary: 'The result files of an upload',
  request: { params: UploadIdParams },
  responses: { 200: json(ResultListSchema, 'the files the processors wrote for this upload'), ...errors('UPLOAD_NOT_FOUND', 'STORAGE_UNAVAILABLE') },
});

const RANGE_HEADERS = {
  'Content-Range': { schema: { type: 'string' as const }, description: 'bytes <start>-<end>/<size>' },
  'Accept-Ranges': { schema: { type: 'string' as const }, description: 'bytes' },
};

/** `GET /api/uploads/{id}/results/{name}` */
const getResult = route({
  method: 'get', path: '/api/uploads/{id}/results/{name}', tags: ['results'], summary: 'One result file, streamed',
  description: 'With its Content-Type, a fixed-form Content-Disposition (inline for images, MP4, JSON and text; attachment otherwise) and single-range support, so a rendition can be played while it downloads.',
  request: { params: ResultParams, query: SignedQuery, headers: z.object({ Range: z.string().optional().describe('one range: bytes=<start>-[<end>]') }) },
  responses: {
    200: { description: 'the whole file', headers: { 'Accept-Ranges': RANGE_HEADERS['Accept-Ranges'] }, content: { '*/*': { schema: BYTES } } },
    206: { description: 'the requested range', headers: RANGE_HEADERS, content: { '*/*': { schema: BYTES } } },
    ...errors('INVALID_RESULT_NAME', 'UPLOAD_NOT_FOUND', 'RESULT_NOT_FOUND', 'RANGE_NOT_SATISFIABLE', 'STORAGE_UNAVAILABLE'),
  },
});

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

  documented(app, listResults, async (c) => {
    try {
      const id = c.req.param('id')!;
      if (!(await known(id))) throw tusError('UPLOAD_NOT_FOUND');
      // Earlier versions are listed under /results/:name/versions (process/result-versions.ts).
      return c.json({ files: (await store.list(id)).filter((f) => !isVersionArtifact(f.name)) });
    } catch (err) {
      return errorResponse(err, deps.metrics, deps.logger);
    }
  });

  documented(app, getResult, async (c) => {
    try {
      const id = c.req.param('id')!;
      const name = c.req.param('name')!;
      if (!isResultName(name)) throw tusError('INVALID_RESULT_NAME');
      if (!(await known(id))) throw tusError('UPLOAD_NOT_FOUND');
      const file = await store.head(id, name);
      if (!file) throw tusError('RESULT_NOT_FOUND', `"${name}"`);
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
        throw tusError('RANGE_NOT_SATISFIABLE', undefined, { 'Content-Range': `bytes */${file.size}` });
      }
      if (file.size === 0) return new Response(null, { status: 200, headers: { ...headers, 'Content-Length': '0' } });
      const got = await store.get(id, name, range, c.req.raw.signal);
      if (!got) throw tusError('RESULT_NOT_FOUND', `"${name}"`);
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

