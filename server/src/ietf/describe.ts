/**
 * Resumable Uploads for HTTP (the IETF draft) in `/api/openapi.json` (tag `ietf-draft`). The draft
 * shares the tus endpoint: a request with `Upload-Draft-Interop-Version` and without `Tus-Resumable`
 * is the draft's. OpenAPI has one operation per method and path, so these descriptions are merged
 * into the tus ones (see `describedOnly`): their header parameters and responses are added.
 */
import { BYTES, describedOnly, errors, route, z, type ApiApp } from '../http/openapi.js';
import { header } from '../tus/describe.js';
import { PARTIAL_UPLOAD_TYPE, SERVED_VERSIONS } from './versions.js';

/** An RFC 9457 problem document, for the draft's problem types (interop 5 and later). */
const ProblemSchema = z.object({
  type: z.string().describe('https://iana.org/assignments/http-problem-types#<mismatching-upload-offset | completed-upload | inconsistent-upload-length>'),
  title: z.string(),
  detail: z.string().optional(),
  'expected-offset': z.number().int().optional(),
  'provided-offset': z.number().int().optional(),
}).passthrough().openapi('Problem');

const versions = `${Math.min(...SERVED_VERSIONS)} to ${Math.max(...SERVED_VERSIONS)}`;
const interop = z.string().optional().describe(`draft: the interop version, ${versions} (what makes a request the draft's, without Tus-Resumable)`);
const complete = z.string().optional().describe('draft: `?1` when this request carries the last of the content, `?0` otherwise (interop 3: Upload-Incomplete, the inverse)');
const length = z.string().optional().describe('draft: the total size, when known');
const id = z.object({ id: z.string().describe('upload id') });

const OFFSET = header('bytes received so far', true);
const COMPLETE = header('draft: `?1` once complete (interop 3: Upload-Incomplete)');
const LIMIT = header('draft: limits, e.g. `max-size=…, max-age=…` (interop 5 and later)');
const LENGTH = header('draft: the total size, when known (interop 6)');
type Entry = ReturnType<typeof errors>[number];
/** A status answered with a problem document (interop 5 and later) or, for the other codes and versions, the catalogue's JSON. */
const withProblem = (entry: Entry | undefined, problems: string) => ({
  description: [entry?.description, `draft: ${problems} (application/problem+json from interop 5)`].filter(Boolean).join('; '),
  content: { ...entry?.content, 'application/problem+json': { schema: ProblemSchema } },
});

/** Describes the draft's upload creation, offset retrieval, append and cancellation on `tusPath`. */
export function describeIetf(app: ApiApp, tusPath: string): void {
  const tags = ['ietf-draft'];
  const createErrors = errors('DRAFT_VERSION_UNSUPPORTED', 'UPLOAD_COMPLETE_REQUIRED', 'INCONSISTENT_LENGTH');
  const appendErrors = errors('DRAFT_VERSION_UNSUPPORTED', 'UPLOAD_COMPLETE_REQUIRED', 'UPLOAD_COMPLETED', 'INCONSISTENT_LENGTH', 'OFFSET_MISMATCH', 'PARTIAL_UPLOAD_TYPE_REQUIRED');
  describedOnly(app, route({
    method: 'post', path: tusPath, tags, summary: 'draft: upload creation',
    description: 'Draft: the content is the body, of any type; 104 interim responses carry the upload URL and, while the body arrives, progress (interop 5 and later).',
    request: { headers: z.object({ 'Upload-Draft-Interop-Version': interop, 'Upload-Complete': complete, 'Upload-Incomplete': z.string().optional().describe('draft interop 3'), 'Upload-Length': length }) },
    responses: {
      104: { description: 'draft: interim, the upload URL and the offset so far', headers: { Location: header('the upload URL'), 'Upload-Offset': header('bytes received so far') } },
      200: { description: 'draft: the upload completed in this request', headers: { Location: header('the upload URL', true), 'Upload-Offset': OFFSET, 'Upload-Complete': COMPLETE, 'Upload-Limit': LIMIT, 'Upload-Length': LENGTH } },
      201: { description: 'draft: created, more content to come', headers: { 'Upload-Complete': COMPLETE, 'Upload-Limit': LIMIT, 'Upload-Length': LENGTH } },
      ...createErrors,
      400: withProblem(createErrors[400], 'inconsistent-upload-length'),
    },
  }));
  const upload = `${tusPath}/{id}`;
  describedOnly(app, route({
    method: 'head', path: upload, tags, summary: 'draft: offset retrieval',
    request: { params: id, headers: z.object({ 'Upload-Draft-Interop-Version': interop }) },
    responses: {
      204: { description: 'draft: the offset', headers: { 'Upload-Offset': OFFSET, 'Upload-Complete': COMPLETE, 'Upload-Limit': LIMIT, 'Upload-Length': LENGTH, 'Cache-Control': header('`no-store`') } },
      ...errors('DRAFT_VERSION_UNSUPPORTED'),
    },
  }));
  describedOnly(app, route({
    method: 'patch', path: upload, tags, summary: 'draft: append at Upload-Offset',
    description: `Draft: from interop 6 the body is \`${PARTIAL_UPLOAD_TYPE}\`.`,
    request: {
      params: id,
      headers: z.object({ 'Upload-Draft-Interop-Version': interop, 'Upload-Complete': complete, 'Upload-Length': length }),
      body: { required: true, content: { [PARTIAL_UPLOAD_TYPE]: { schema: BYTES } } },
    },
    responses: {
      104: { description: 'draft: interim, progress while the body arrives', headers: { 'Upload-Offset': header('bytes received so far') } },
      200: { description: 'draft: appended, the upload is complete', headers: { 'Upload-Offset': OFFSET, 'Upload-Complete': COMPLETE, 'Upload-Length': LENGTH } },
      204: { description: 'draft: appended, more to come', headers: { 'Upload-Complete': COMPLETE, 'Upload-Limit': LIMIT } },
      ...appendErrors,
      400: withProblem(appendErrors[400], 'completed-upload, inconsistent-upload-length'),
      409: withProblem(appendErrors[409], 'mismatching-upload-offset (expected-offset, provided-offset)'),
    },
  }));
  describedOnly(app, route({
    method: 'delete', path: upload, tags, summary: 'draft: upload cancellation',
    request: { params: id, headers: z.object({ 'Upload-Draft-Interop-Version': interop }) },
    responses: { 204: { description: 'draft: cancelled' }, ...errors('DRAFT_VERSION_UNSUPPORTED') },
  }));
  for (const path of [tusPath, upload]) {
    describedOnly(app, route({
      method: 'options', path, tags, summary: 'draft: discovery', security: [],
      ...(path === tusPath ? {} : { request: { params: id } }),
      responses: { 200: { description: 'draft: Accept-Patch and limits', headers: { 'Accept-Patch': header(PARTIAL_UPLOAD_TYPE), 'Upload-Limit': LIMIT } } },
    }));
  }
}
