/**
 * The tus 1.0 endpoint in `/api/openapi.json` (tag `tus`). The routes are mounted by `mountTus`
 * (one handler per method); this only describes them: the request headers as parameters, the
 * response headers, and the catalogue errors each method can answer with.
 */
import { BYTES, describedOnly, errors, route, SignedQuery, z, type ApiApp } from '../http/openapi.js';
import type { ErrorCode } from '../errors.js';
import { EXTENSIONS, OFFSET_CONTENT_TYPE, TUS_VERSION } from './protocol.js';

type Header = { schema: { type: 'string' }; description: string; required?: boolean };
/** A response header (`required` ones are checked against real responses by the API tests). */
export const header = (description: string, required = false): Header => ({ schema: { type: 'string' }, description, ...(required ? { required } : {}) });

const id = z.object({ id: z.string().describe('upload id') });
/** Whatever an authenticated request can meet before its handler runs. */
const AUTH: ErrorCode[] = ['AUTH_REQUIRED', 'AUTH_INVALID', 'AUTH_EXPIRED', 'AUTH_UNAVAILABLE', 'TOKEN_SCOPE', 'SIGNED_URL_INVALID', 'RATE_LIMITED', 'SHUTTING_DOWN', 'INTERNAL'];
const STORE: ErrorCode[] = ['STORAGE_UNAVAILABLE', 'COORDINATION_UNAVAILABLE', 'LOCK_TIMEOUT'];

const tusResumable = z.string().optional().describe(`tus: required on every request but OPTIONS and GET, \`${TUS_VERSION}\` (else 412)`);
const override = z.string().optional().describe('X-HTTP-Method-Override: the method to apply (for clients that can only send POST)');
const uploadLength = z.string().optional().describe('tus: total size in bytes (or Upload-Defer-Length: 1)');
const checksum = z.string().optional().describe('tus checksum extension: "<algorithm> <base64 digest>" of this request body; 460 when it does not match');

const OFFSET = header('bytes received so far', true);
const EXPIRES = header('when the unfinished upload expires (HTTP date)');
const TUS = header(`\`${TUS_VERSION}\``);

/** Describes the tus methods on `tusPath` (the collection) and `tusPath/{id}` (an upload). */
export function describeTus(app: ApiApp, tusPath: string): void {
  const tags = ['tus'];
  describedOnly(app, route({
    method: 'post', path: tusPath, tags, summary: 'tus: create an upload (creation, creation-with-upload, creation-defer-length, concatenation)',
    description: `Every header is validated before anything is stored, so a refused POST leaves no trace. A body (\`${OFFSET_CONTENT_TYPE}\`) is the first chunk.`,
    request: {
      headers: z.object({
        'Tus-Resumable': tusResumable, 'Upload-Length': uploadLength,
        'Upload-Defer-Length': z.string().optional().describe('tus: `1` when the size is not known yet'),
        'Upload-Metadata': z.string().optional().describe('tus: comma-separated "key base64value" pairs (filename, filetype, key, tags, …)'),
        'Upload-Concat': z.string().optional().describe('tus: `partial`, or `final;<url> <url> …` to concatenate partial uploads'),
        'Upload-Checksum': checksum, 'X-HTTP-Method-Override': override,
      }),
      body: { required: false, content: { [OFFSET_CONTENT_TYPE]: { schema: BYTES } } },
    },
    responses: {
      201: { description: 'tus: created', headers: { Location: header('the upload URL', true), 'Upload-Offset': header('bytes stored (creation-with-upload)'), 'Upload-Expires': EXPIRES, 'Tus-Resumable': TUS } },
      ...errors(
        'TUS_RESUMABLE_UNSUPPORTED', 'LENGTH_REQUIRED', 'INVALID_LENGTH', 'INVALID_DEFER_LENGTH', 'MAX_SIZE_EXCEEDED', 'INVALID_METADATA', 'METADATA_TOO_LARGE',
        'INVALID_CONCAT', 'INVALID_CONCAT_PART', 'CONCAT_LENGTH_FORBIDDEN', 'INVALID_CONTENT_TYPE', 'INVALID_CHECKSUM_HEADER', 'UNSUPPORTED_CHECKSUM_ALGORITHM',
        'CHECKSUM_MISMATCH', 'BODY_EXCEEDS_LENGTH', 'QUOTA_BYTES_EXCEEDED', 'QUOTA_UPLOADS_EXCEEDED', 'UPLOAD_TOKEN_EXHAUSTED', 'UPLOAD_TOKEN_SIZE_EXCEEDED',
        'TYPE_NOT_ALLOWED', 'STORAGE_FULL', 'WRITE_FAILED', ...STORE, ...AUTH,
      ),
    },
  }));
  const discovery = {
    200: {
      description: 'tus: what this server supports',
      headers: {
        'Tus-Version': header(`\`${TUS_VERSION}\``, true), 'Tus-Extension': header(EXTENSIONS.join(',')),
        'Tus-Max-Size': header('MAX_SIZE in bytes'), 'Tus-Checksum-Algorithm': header('checksum algorithms (sha1, md5, sha256, …)'),
      },
    },
    204: { description: 'a CORS preflight (Origin and Access-Control-Request-Method), answered by the CORS layer' },
  };
  for (const path of [tusPath, `${tusPath}/{id}`]) {
    describedOnly(app, route({
      method: 'options', path, tags, summary: 'tus: discovery', security: [],
      ...(path === tusPath ? {} : { request: { params: id } }),
      responses: discovery,
    }));
  }
  const upload = `${tusPath}/{id}`;
  describedOnly(app, route({
    method: 'head', path: upload, tags, summary: 'tus: the offset of an upload (to resume)',
    request: { params: id, headers: z.object({ 'Tus-Resumable': tusResumable }) },
    responses: {
      200: {
        description: 'tus: the upload',
        headers: {
          'Upload-Offset': OFFSET, 'Upload-Length': header('total size, once known'), 'Upload-Defer-Length': header('`1` while the size is not known'),
          'Upload-Metadata': header('as given at creation'), 'Upload-Concat': header('`partial` or `final;<urls>`'), 'Upload-Expires': EXPIRES,
          'Cache-Control': header('`no-store`'), 'Tus-Resumable': TUS,
        },
      },
      ...errors('UPLOAD_NOT_FOUND', 'UPLOAD_GONE', 'TUS_RESUMABLE_UNSUPPORTED', ...STORE, ...AUTH),
    },
  }));
  describedOnly(app, route({
    method: 'patch', path: upload, tags, summary: 'tus: append a chunk at Upload-Offset',
    request: {
      params: id,
      headers: z.object({
        'Tus-Resumable': tusResumable, 'Upload-Offset': z.string().optional().describe('tus: required, the offset this chunk starts at (409 when it is not the current one)'),
        'Upload-Length': z.string().optional().describe('tus: the total size of a deferred-length upload, once known'),
        'Upload-Checksum': checksum, 'X-HTTP-Method-Override': override,
      }),
      body: { required: true, content: { [OFFSET_CONTENT_TYPE]: { schema: BYTES } } },
    },
    responses: {
      204: { description: 'tus: appended', headers: { 'Upload-Offset': OFFSET, 'Upload-Expires': EXPIRES, 'Tus-Resumable': TUS } },
      ...errors(
        'TUS_RESUMABLE_UNSUPPORTED', 'UPLOAD_NOT_FOUND', 'UPLOAD_GONE', 'MISSING_OFFSET', 'INVALID_OFFSET', 'OFFSET_MISMATCH', 'INVALID_CONTENT_TYPE',
        'INVALID_LENGTH', 'LENGTH_ALREADY_SET', 'LENGTH_BELOW_OFFSET', 'PATCH_FINAL_FORBIDDEN', 'BODY_EXCEEDS_LENGTH', 'MAX_SIZE_EXCEEDED',
        'INVALID_CHECKSUM_HEADER', 'UNSUPPORTED_CHECKSUM_ALGORITHM', 'CHECKSUM_MISMATCH', 'UPLOAD_INTERRUPTED', 'QUOTA_BYTES_EXCEEDED',
        'UPLOAD_TOKEN_SIZE_EXCEEDED', 'TYPE_NOT_ALLOWED', 'REQUEST_TIMEOUT', 'STORAGE_FULL', 'WRITE_FAILED', ...STORE, ...AUTH,
      ),
    },
  }));
  describedOnly(app, route({
    method: 'delete', path: upload, tags, summary: 'tus: terminate an upload (termination)',
    request: { params: id, headers: z.object({ 'Tus-Resumable': tusResumable, 'X-HTTP-Method-Override': override }) },
    responses: {
      204: { description: 'tus: terminated, its bytes freed', headers: { 'Tus-Resumable': TUS } },
      ...errors('TUS_RESUMABLE_UNSUPPORTED', 'UPLOAD_NOT_FOUND', 'UPLOAD_GONE', ...STORE, ...AUTH),
    },
  }));
  describedOnly(app, route({
    method: 'get', path: upload, tags, summary: 'Download a finished upload (not part of tus)',
    description: 'Immutable once finished: a strong ETag, `Cache-Control: … immutable`, 304 for a matching If-None-Match, one Range (with If-Range); on S3 with S3_PRESIGNED_DOWNLOADS a redirect to the store. Active types (HTML, SVG, scripts) are served as bytes, as attachments. A signed URL (`?expires&signature`) needs no token.',
    request: {
      params: id,
      query: SignedQuery,
      headers: z.object({ Range: z.string().optional().describe('one range: bytes=<start>-[<end>]'), 'If-None-Match': z.string().optional(), 'If-Range': z.string().optional() }),
    },
    responses: {
      200: { description: 'the bytes', headers: { ETag: header('strong', true), 'Content-Disposition': header('inline or attachment, with the filename') }, content: { '*/*': { schema: BYTES } } },
      206: { description: 'the requested range', headers: { 'Content-Range': header('bytes <start>-<end>/<size>', true) }, content: { '*/*': { schema: BYTES } } },
      302: { description: 'download from the store (presigned URL)', headers: { Location: header('presigned URL', true) } },
      304: { description: 'If-None-Match matched' },
      ...errors('UPLOAD_NOT_FOUND', 'UPLOAD_GONE', 'UPLOAD_INCOMPLETE', 'RANGE_NOT_SATISFIABLE', ...STORE, ...AUTH),
    },
  }));
}
