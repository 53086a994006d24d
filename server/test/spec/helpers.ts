/**
 * Shared helpers for the tus 1.0.0 conformance suite (server/test/spec). Each test file starts its
 * own server with {@link useServer}; requests go over real HTTP with `fetch`, or with `node:http` when
 * the test needs control over framing (chunked bodies, trailers, Expect: 100-continue).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { startTestServer, type TestServer } from '../harness.js';
import { OCTET, TUS } from '@tus-edge/testkit';

export { OCTET, TUS };

/** The extensions this server advertises, in order. */
export const EXTENSIONS = [
  'creation',
  'creation-with-upload',
  'creation-defer-length',
  'expiration',
  'checksum',
  'checksum-trailer',
  'termination',
  'concatenation',
  'concatenation-unfinished',
];
export const CHECKSUM_ALGORITHMS = ['sha1', 'md5', 'sha256', 'sha512'];

/** RFC 7231 IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`. */
export const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Starts one server for the calling test file (FSYNC off for speed) and stops it afterwards.
 * In the `spec-distributed` vitest project the server runs on S3 and Redis (see
 * testing/distributed-setup.ts), with a key prefix of its own. Returns a getter, since the server
 * exists only once `beforeAll` ran.
 */
export function useServer(env: Record<string, string> = {}, overrides: Parameters<typeof startTestServer>[1] = {}): () => TestServer {
  let server: TestServer | undefined;
  const distributed = inject('distributedEnv');
  beforeAll(async () => {
    const backend = distributed ? { ...distributed, REDIS_PREFIX: `spec${randomBytes(4).toString('hex')}:` } : {};
    server = await startTestServer({ FSYNC: 'false', ...backend, ...env }, overrides);
  });
  afterAll(async () => {
    await server?.close();
  });
  return () => {
    if (!server) throw new Error('server not started');
    return server;
  };
}

type Headers = Record<string, string>;

/** POST to the creation URL with `Tus-Resumable: 1.0.0` plus `headers`. */
export function post(tusUrl: string, headers: Headers = {}, body?: string | Buffer): Promise<Response> {
  const withType: Headers = body !== undefined && !('Content-Type' in headers) ? { 'Content-Type': OCTET } : {};
  return fetch(tusUrl, { method: 'POST', headers: { ...TUS, ...withType, ...headers }, body });
}

/** Creates an upload and returns its absolute URL; fails the test unless the server answers 201. */
export async function create(tusUrl: string, headers: Headers = {}, body?: string | Buffer): Promise<string> {
  const res = await post(tusUrl, headers, body);
  await res.arrayBuffer();
  expect(res.status, `POST ${JSON.stringify(headers)}`).toBe(201);
  const location = res.headers.get('location');
  expect(location).toBeTruthy();
  return new URL(location!, tusUrl).href;
}

/** Creates an upload of `length` bytes. */
export function createUpload(tusUrl: string, length: number, headers: Headers = {}): Promise<string> {
  return create(tusUrl, { 'Upload-Length': String(length), ...headers });
}

/** PATCH `body` at `offset` with the tus content type (overridable through `headers`). */
export function patch(url: string, offset: number | string, body: string | Buffer, headers: Headers = {}): Promise<Response> {
  return fetch(url, {
    method: 'PATCH',
    headers: { ...TUS, 'Content-Type': OCTET, 'Upload-Offset': String(offset), ...headers },
    body,
  });
}

export function head(url: string, headers: Headers = { ...TUS }): Promise<Response> {
  return fetch(url, { method: 'HEAD', headers });
}

export function del(url: string, headers: Headers = { ...TUS }): Promise<Response> {
  return fetch(url, { method: 'DELETE', headers });
}

export function options(url: string, headers: Headers = {}): Promise<Response> {
  return fetch(url, { method: 'OPTIONS', headers });
}

/** The Upload-Offset a HEAD reports (fails the test if the HEAD is not 200 with an offset). */
export async function offsetOf(url: string): Promise<number> {
  const res = await head(url);
  expect(res.status, `HEAD ${url}`).toBe(200);
  const value = res.headers.get('upload-offset');
  expect(value, 'Upload-Offset on HEAD').toMatch(/^\d+$/);
  return Number(value);
}

/** GET of a finished upload's bytes as text. */
export async function download(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status, `GET ${url}`).toBe(200);
  return res.text();
}

/** Asserts the status and the JSON error body `{"error":{"code","message"}}` (and optionally the code). */
export async function expectError(res: Response, status: number, code?: string): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type') ?? '').toMatch(/^application\/json/);
  const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
  expect(typeof body.error?.code).toBe('string');
  expect(typeof body.error?.message).toBe('string');
  if (code) expect(body.error?.code).toBe(code);
}

/** Number of upload records the server holds (to show a refused request created nothing). */
export async function uploadCount(server: TestServer): Promise<number> {
  return (await server.deps.records.list()).length;
}

export function idOf(url: string): string {
  return new URL(url).pathname.split('/').pop()!;
}

/** Base64 digest of `data` with `algorithm`, as `Upload-Checksum` carries it. */
export function digest(algorithm: string, data: string | Buffer): string {
  return createHash(algorithm).update(data).digest('base64');
}

export function b64(value: string): string {
  return Buffer.from(value).toString('base64');
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** True when the server sent `100 Continue` before the final response. */
  continued: boolean;
}

export interface RawRequest {
  method: string;
  url: string;
  headers?: Headers;
  /** Body chunks; with no Content-Length header the body is sent chunked. */
  chunks?: (string | Buffer)[];
  /** Trailers sent after a chunked body. */
  trailers?: Headers;
  /** Wait for `100 Continue` before sending the body (sets `Expect: 100-continue`). */
  expectContinue?: boolean;
}

/** One request with node:http, for framing `fetch` cannot express (trailers, Expect). */
export function rawRequest(r: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers: Headers = { ...(r.headers ?? {}) };
    if (r.expectContinue) headers.Expect = '100-continue';
    const req = http.request(r.url, { method: r.method, headers, agent: false });
    let continued = false;
    const sendBody = () => {
      for (const chunk of r.chunks ?? []) req.write(chunk);
      if (r.trailers) req.addTrailers(r.trailers);
      req.end();
    };
    req.on('continue', () => {
      continued = true;
      sendBody();
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, continued }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (r.expectContinue) req.flushHeaders();
    else sendBody();
  });
}

/** Polls `check` until it returns true or `ms` pass. */
export async function waitFor(check: () => Promise<boolean>, ms = 5000, every = 50): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(every);
  }
}
