/**
 * tus 1.0 over k6/http, shared by every load-test script: creation, append, offset, termination.
 *
 * Every request carries two tags: `tus` (create, patch, head, delete) so thresholds can select one
 * operation (`http_req_duration{tus:patch}`), and a fixed `name`, so the unique URL of each upload does
 * not become its own metric series. `http_req_failed` counts a response as failed unless its status is
 * one the caller declared expected (by default the protocol's success status).
 */
import { check } from 'k6';
import { b64encode } from 'k6/encoding';
import http, { type Params, type RefinedResponse, type RequestBody } from 'k6/http';

export const TUS_RESUMABLE = '1.0.0';

/** The operations the tags and thresholds name. */
export type TusOp = 'create' | 'patch' | 'head' | 'delete';

/** A k6 response with a text body (error bodies are JSON from our server). */
export type TusResponse = RefinedResponse<'text'>;

/** k6's error code for a request that hit its `timeout` (the client cut it). */
export const ERR_REQUEST_TIMEOUT = 1050;

// k6 recommends building response callbacks once, at init, not per request.
const SUCCESS: Record<TusOp, ReturnType<typeof http.expectedStatuses>> = {
  create: http.expectedStatuses(201),
  patch: http.expectedStatuses(204),
  head: http.expectedStatuses(200),
  delete: http.expectedStatuses(204),
};

/**
 * Statuses a contended PATCH may get besides 204 and that are the protocol working, not failing:
 * 409 (another request moved the offset), 423 (locked), 400 UPLOAD_INTERRUPTED (our server: this
 * request was asked to give up its lock to a newer one; its bytes are kept).
 */
export const CONTENDED_PATCH = http.expectedStatuses(204, 400, 409, 423);

export interface RequestOptions {
  /** Request timeout (k6 default 60s); a request that exceeds it is cut by the client. */
  timeout?: string | number;
  /** Which statuses count as success in `http_req_failed` (default: the operation's success status). */
  expected?: ReturnType<typeof http.expectedStatuses>;
  /** Extra metric tags. */
  tags?: Record<string, string>;
}

function send(op: TusOp, method: string, url: string, body: RequestBody | null, headers: Record<string, string>, opts: RequestOptions): TusResponse {
  const params: Params & { responseType: 'text' } = {
    headers: { 'Tus-Resumable': TUS_RESUMABLE, ...headers },
    tags: { tus: op, name: `tus ${op}`, ...opts.tags },
    responseCallback: opts.expected ?? SUCCESS[op],
    responseType: 'text',
  };
  if (opts.timeout !== undefined) params.timeout = opts.timeout;
  return http.request(method, url, body, params);
}

/** `Upload-Metadata` value: comma-separated `key base64(value)` pairs. */
export function encodeMetadata(metadata: Record<string, string>): string {
  return Object.keys(metadata)
    .map((k) => `${k} ${b64encode(metadata[k])}`)
    .join(',');
}

/** Resolves a `Location` header against the endpoint (it may be absolute, or a path). k6 has no URL class. */
export function resolveLocation(endpoint: string, location: string): string {
  if (/^https?:\/\//i.test(location)) return location;
  const origin = /^(https?:\/\/[^/]+)/i.exec(endpoint)?.[1] ?? '';
  if (location.startsWith('/')) return origin + location;
  return endpoint.replace(/[^/]*$/, '') + location;
}

export interface Created {
  res: TusResponse;
  /** Absolute upload URL, or undefined when creation failed. */
  url: string | undefined;
}

/**
 * POST to the creation endpoint. With `body`, uses creation-with-upload (the body is the first chunk).
 * Checks 201 and a Location header.
 */
export function createUpload(
  endpoint: string,
  length: number,
  opts: RequestOptions & { metadata?: Record<string, string>; body?: ArrayBuffer } = {},
): Created {
  const headers: Record<string, string> = { 'Upload-Length': String(length) };
  if (opts.metadata) headers['Upload-Metadata'] = encodeMetadata(opts.metadata);
  if (opts.body) headers['Content-Type'] = 'application/offset+octet-stream';
  const res = send('create', 'POST', endpoint, opts.body ?? null, headers, opts);
  const location = res.headers['Location'];
  const ok = check(res, {
    'create: 201': (r) => r.status === 201,
    'create: Location': () => !!location,
  });
  return { res, url: ok ? resolveLocation(endpoint, location) : undefined };
}

/** PATCH `body` at `offset`. The caller checks the outcome (contended and cut requests are expected in some tests). */
export function patchUpload(url: string, offset: number, body: ArrayBuffer, opts: RequestOptions = {}): TusResponse {
  return send('patch', 'PATCH', url, body, {
    'Upload-Offset': String(offset),
    'Content-Type': 'application/offset+octet-stream',
  }, opts);
}

/** The `Upload-Offset` a response carries, or undefined. */
export function offsetOf(res: TusResponse): number | undefined {
  const raw = res.headers['Upload-Offset'];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

/** HEAD: the server's offset for the upload (undefined unless 200 with a valid Upload-Offset). */
export function headUpload(url: string, opts: RequestOptions = {}): { res: TusResponse; offset: number | undefined } {
  const res = send('head', 'HEAD', url, null, {}, opts);
  const offset = res.status === 200 ? offsetOf(res) : undefined;
  check(res, { 'head: 200 with Upload-Offset': () => offset !== undefined });
  return { res, offset };
}

/** DELETE (termination extension). Checks 204. */
export function deleteUpload(url: string, opts: RequestOptions = {}): TusResponse {
  const res = send('delete', 'DELETE', url, null, {}, opts);
  check(res, { 'delete: 204': (r) => r.status === 204 });
  return res;
}

const payloads: Record<number, ArrayBuffer> = {};

/**
 * A body of `bytes` bytes (a repeating pattern), built once per VU and size. Contents are not
 * verified by these tests: offsets are, and the protocol tests cover bytes.
 */
export function payload(bytes: number): ArrayBuffer {
  let buf = payloads[bytes];
  if (!buf) {
    const view = new Uint8Array(bytes);
    for (let i = 0; i < Math.min(bytes, 251); i++) view[i] = (i * 31 + 7) & 0xff;
    // Doubling copies: native, so an 8 MiB body does not cost 8 M interpreted iterations.
    for (let filled = Math.min(bytes, 251); filled < bytes; filled *= 2) view.copyWithin(filled, 0, Math.min(filled, bytes - filled));
    buf = payloads[bytes] = view.buffer;
  }
  return buf;
}

/** Uploads `size` bytes to `url` from `offset` in `chunk`-byte PATCHes; returns the final offset reached. */
export function appendAll(url: string, size: number, chunk: number, offset = 0, opts: RequestOptions = {}): number {
  while (offset < size) {
    const n = Math.min(chunk, size - offset);
    const res = patchUpload(url, offset, payload(n), opts);
    const next = offsetOf(res);
    const ok = check(res, {
      'patch: 204': (r) => r.status === 204,
      'patch: Upload-Offset advanced by the body': () => next === offset + n,
    });
    if (!ok) return next ?? offset;
    offset += n;
  }
  return offset;
}
