/**
 * Resumable Uploads for HTTP (draft-ietf-httpbis-resumable-upload), interop versions 3 to 8, on the
 * same endpoint, uploads and storage as tus 1.0. One test per MUST/SHOULD of the draft, each named by
 * the sentence it checks (the newest draft's wording; interop 3 says `Upload-Incomplete` where it
 * says `Upload-Complete`), run for every version. Names starting with "[server]" check a choice this
 * server made where the draft leaves room. In the `spec-distributed` project the server runs on S3
 * and Redis, and a second node on the same bucket and Redis takes every other request.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestServer, type TestServer } from '../harness.js';
import { dialect, draftRequest as sendDraft, expectProblem, type DraftRequest, type DraftResponse, type Headers } from './ietf-client.js';
import { OCTET, TUS } from './helpers.js';
import { documentedApi, type DocumentedApi } from '../openapi.js';

const MAX_SIZE = 4 * 1024 * 1024;
const nodes: TestServer[] = [];
beforeAll(async () => {
  const distributed = inject('distributedEnv');
  const env = { FSYNC: 'false', MAX_SIZE: String(MAX_SIZE), ...(distributed ?? {}), REDIS_PREFIX: `ietf${randomBytes(4).toString('hex')}:` };
  nodes.push(await startTestServer(env));
  if (distributed) nodes.push(await startTestServer(env));
  api = await documentedApi(nodes[0].url);
});
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.close()));
});

/** The OpenAPI document: every answer of the draft (interim ones too) is checked against it. */
let api: DocumentedApi;

/** {@link sendDraft}, the answer (and each 104) checked against the document's operation. */
async function draftRequest(r: DraftRequest): Promise<DraftResponse> {
  const res = await sendDraft(r);
  if (res.status === 0) return res; // a cut connection: no answer to check
  const method = r.headers?.['X-HTTP-Method-Override'] ?? r.method;
  const path = new URL(r.url).pathname;
  const headersOf = (h: Record<string, string | string[] | undefined>) => new Headers(Object.entries(h).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)] as [string, string]])));
  for (const interim of res.interim) await api.check(method, path, { status: interim.status, headers: headersOf(interim.headers), text: async () => '' });
  await api.check(method, path, { status: res.status, headers: headersOf(res.headers), text: async () => res.body });
  return res;
}

let turn = 0;
/** The collection URL of the next node (two nodes take turns in the distributed project). */
const endpoint = () => nodes[turn++ % nodes.length].tusUrl;
/** `url` moved onto the next node: the same upload reached through another server. */
function onNextNode(url: string): string {
  const next = new URL(endpoint());
  const u = new URL(url);
  u.host = next.host;
  return u.href;
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function download(url: string): Promise<Buffer> {
  const res = await fetch(onNextNode(url));
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

describe.each([3, 4, 5, 6, 7, 8])('interop version %i', (version) => {
  const d = dialect(version);
  const V = { 'Upload-Draft-Interop-Version': String(version) };

  /** POST creation with `done` completeness and optional content. */
  function create(done: boolean, body?: Buffer | string, headers: Headers = {}): Promise<DraftResponse> {
    const h: Headers = { ...d.complete(done), ...headers };
    if (body !== undefined && !('Transfer-Encoding' in h)) h['Content-Length'] = String(Buffer.byteLength(body));
    return draftRequest({ method: 'POST', url: endpoint(), headers: h, chunks: body === undefined ? [] : [body] });
  }
  async function createEmpty(headers: Headers = {}): Promise<string> {
    const res = await create(false, undefined, headers);
    expect(res.status, res.body).toBe(201);
    return res.headers.location!;
  }
  function append(url: string, offset: number, body: Buffer | string, done: boolean, headers: Headers = {}): Promise<DraftResponse> {
    return draftRequest({
      method: 'PATCH', url: onNextNode(url),
      headers: { ...d.complete(done), ...d.appendType, 'Upload-Offset': String(offset), 'Content-Length': String(Buffer.byteLength(body)), ...headers },
      chunks: [body],
    });
  }
  const head = (url: string) => draftRequest({ method: 'HEAD', url: onNextNode(url), headers: V });

  describe('upload creation', () => {
    it('"the server SHOULD announce the upload resource by sending an interim response with the `104 (Upload Resumption Supported)` status code ... it MUST include `Location` header field pointing to the upload resource and MUST include the `Upload-Limit` header field"', async () => {
      const res = await create(false, 'hello');
      expect(res.status).toBe(201);
      const announce = res.interim.find((i) => i.status === 104 && i.headers.location);
      expect(announce, JSON.stringify(res.interim)).toBeDefined();
      if (version >= 6) expect(announce!.headers['upload-limit']).toMatch(/max-size=\d+/);
      // "all interim and final response messages for the same request MUST contain an identical `Location` value"
      expect(announce!.headers.location).toBe(res.headers.location);
    });

    it('"If the `Upload-Complete` header field is set to false ... the server MUST include the `Location` response header field ... and MUST include the `Upload-Limit` header field ... Servers are RECOMMENDED to use the `201 (Created)` status code."', async () => {
      const res = await create(false, 'abc');
      expect(res.status).toBe(201);
      expect(res.headers.location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files\/[A-Za-z0-9_-]+$/);
      expect(res.headers['upload-offset']).toBe('3');
      expect(d.readComplete(res.headers)).toBe(false);
      if (version >= 7) expect(res.headers['upload-limit']).toMatch(/max-size=4194304, max-age=\d+/);
      if (version === 6) expect(res.headers['upload-limit']).toMatch(/max-size=4194304, expires=\d+/);
      if (version < 6) expect(res.headers['upload-limit']).toBeUndefined();
    });

    it('"If the `Upload-Complete` request header field is set to true ... If the request content was fully processed, no resumable upload is needed and the server proceeds to process the request"', async () => {
      const data = randomBytes(20_000);
      const res = await create(true, data);
      expect(res.status).toBe(200);
      expect(d.readComplete(res.headers)).toBe(true);
      expect(res.headers['upload-offset']).toBe('20000');
      expect(sha(await download(res.headers.location!))).toBe(sha(data));
    });

    it('"If the `Upload-Complete` header field is then set to true, the client intends to upload an empty representation."', async () => {
      const res = await create(true, undefined, { 'Content-Length': '0' });
      expect(res.status).toBe(200);
      expect(d.readComplete(res.headers)).toBe(true);
      expect((await download(res.headers.location!)).length).toBe(0);
    });

    it('"The server MUST record the length according to {{upload-length}} if the `Upload-Length` or `Upload-Complete: ?1` header fields are included in the request."', async () => {
      const url = await createEmpty({ 'Upload-Length': '10' });
      const res = await head(url);
      if (version >= 6) expect(res.headers['upload-length']).toBe('10');
      // The recorded length is enforced: an append past it is refused.
      const over = await append(url, 0, 'x'.repeat(11), false);
      expect(over.status).toBe(413);
    });

    it('"If indicators (1) and (2) are both present in the same request, their indicated lengths MUST match."', async () => {
      const res = await create(true, 'abcd', { 'Upload-Length': '5' });
      if (version >= 7) expectProblem(res, 400, 'inconsistent-upload-length');
      else expect(res.status).toBe(400);
    });

    it('"A server responding with a 413 Content Too Large status code as a result of its upload limits MUST include the Upload-Limit header"', async () => {
      const res = await create(false, undefined, { 'Upload-Length': String(MAX_SIZE + 1) });
      expect(res.status).toBe(413);
      if (version >= 6) expect(res.headers['upload-limit']).toMatch(/max-size=4194304/);
    });

    it('"the server SHOULD append as much of the request content as possible to the upload resource ... In addition, the upload resource MUST NOT be considered complete then."', async () => {
      const data = randomBytes(64 * 1024);
      const cut = await draftRequest({
        method: 'POST', url: endpoint(), headers: { ...d.complete(true), 'Content-Length': String(data.length * 2) },
        chunks: [data], awaitInterim: true, cut: true,
      });
      const location = cut.interim.find((i) => i.headers.location)?.headers.location;
      expect(location).toBeDefined();
      let res: DraftResponse;
      for (let i = 0; ; i++) {
        res = await head(location!);
        if (res.headers['upload-offset'] === String(data.length) || i > 50) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(res.status).toBe(204);
      expect(res.headers['upload-offset']).toBe(String(data.length));
      expect(d.readComplete(res.headers)).toBe(false);
      // Resumed: the rest with Upload-Complete: ?1.
      const rest = await append(location!, data.length, data, true);
      expect(rest.status, rest.body).toBe(200);
      expect(sha(await download(location!))).toBe(sha(Buffer.concat([data, data])));
    });

    it('[server] a draft response carries no tus header, and an interop version it does not serve is refused', async () => {
      const res = await create(false);
      expect(res.headers['tus-resumable']).toBeUndefined();
      const unknown = await draftRequest({ method: 'POST', url: endpoint(), headers: { 'Upload-Draft-Interop-Version': '2', 'Upload-Complete': '?0' } });
      expect(unknown.status).toBe(400);
      expect(JSON.parse(unknown.body).error.code).toBe('DRAFT_VERSION_UNSUPPORTED');
    });
  });

  describe('offset retrieval', () => {
    it('"A successful response to a `HEAD` request against an upload resource MUST include the offset in the `Upload-Offset` header field, MUST include the completeness state in the `Upload-Complete` header field, ... MUST indicate the limits in the `Upload-Limit` header field, and SHOULD include the `Cache-Control` header field with the value `no-store`"', async () => {
      const created = await create(false, 'hello');
      const res = await head(created.headers.location!);
      expect(res.status).toBe(204);
      expect(res.headers['upload-offset']).toBe('5');
      expect(d.readComplete(res.headers)).toBe(false);
      expect(res.headers['cache-control']).toBe('no-store');
      if (version >= 6) expect(res.headers['upload-limit']).toMatch(/max-size=\d+/);
    });

    it('"MUST include the length in the `Upload-Length` header field, unless the client has not supplied one"', async () => {
      const without = await head(await createEmpty());
      expect(without.headers['upload-length']).toBeUndefined();
      const done = await create(true, 'hello');
      const withLength = await head(done.headers.location!);
      expect(d.readComplete(withLength.headers)).toBe(true);
      if (version >= 6) expect(withLength.headers['upload-length']).toBe('5');
    });

    it('"the offset sent by the server MUST be accepted in a subsequent request to append representation data"', async () => {
      const url = await createEmpty();
      await append(url, 0, 'abc', false);
      const offset = Number((await head(url)).headers['upload-offset']);
      const res = await append(url, offset, 'def', true);
      expect(res.status).toBe(200);
      expect((await download(url)).toString()).toBe('abcdef');
    });
  });

  describe('upload append', () => {
    it('"If the `Upload-Complete` request header field is set to false ... the server acknowledges the appended data by sending a `2xx (Successful)` response with the `Upload-Complete` header field set to false."', async () => {
      const url = await createEmpty();
      const res = await append(url, 0, 'part', false);
      expect(res.status).toBe(204);
      expect(d.readComplete(res.headers)).toBe(false);
      expect(res.headers['upload-offset']).toBe('4');
    });

    it('"If the request content was fully processed, the upload is marked as complete ... However, the response MUST include the `Upload-Complete` header field with a true value"', async () => {
      const url = await createEmpty();
      await append(url, 0, 'one ', false);
      const res = await append(url, 4, 'two', true);
      expect(res.status).toBe(200);
      expect(d.readComplete(res.headers)).toBe(true);
      expect((await download(url)).toString()).toBe('one two');
    });

    it('"[Upload-Complete true when] the request has no content. Once the request is processed by the server, the upload is complete."', async () => {
      const url = await createEmpty();
      await append(url, 0, 'all of it', false);
      const res = await append(url, 9, '', true);
      expect(res.status).toBe(200);
      expect(d.readComplete((await head(url)).headers)).toBe(true);
    });

    it('[server] an upload whose offset reaches its known length is complete even after Upload-Complete: ?0 (as in tus); the client\'s empty completing append is then answered 200', async () => {
      const url = await createEmpty({ 'Upload-Length': '4' });
      const res = await append(url, 0, 'abcd', false);
      expect(res.status).toBe(200);
      expect(d.readComplete(res.headers)).toBe(true);
      const again = await append(url, 4, '', true);
      expect(again.status).toBe(200);
      expect(d.readComplete(again.headers)).toBe(true);
      expect((await download(url)).toString()).toBe('abcd');
    });

    it('[server] content of unknown length (chunked) with Upload-Complete: ?1 completes the upload at the offset reached', async () => {
      const url = await createEmpty();
      const res = await draftRequest({
        method: 'PATCH', url: onNextNode(url), headers: { ...d.complete(true), ...d.appendType, 'Upload-Offset': '0' }, chunks: ['chunk-a ', 'chunk-b'],
      });
      expect(res.status, res.body).toBe(200);
      expect((await download(url)).toString()).toBe('chunk-a chunk-b');
    });

    it('"If the `Upload-Offset` request header field value does not match the current offset, the server MUST reject the request with a `409 (Conflict)` status code. The response MUST include the correct offset in the `Upload-Offset` header field."', async () => {
      const url = await createEmpty();
      await append(url, 0, 'abc', false);
      const res = await append(url, 1, 'zzz', false);
      expect(res.status).toBe(409);
      expect(res.headers['upload-offset']).toBe('3');
      if (version >= 6) {
        // "A response using this problem type SHOULD populate both members"
        const doc = expectProblem(res, 409, 'mismatching-upload-offset');
        expect(doc['expected-offset']).toBe(3);
        expect(doc['provided-offset']).toBe(1);
      }
    });

    it('"If the upload is already complete, the server MUST NOT modify the upload resource and MUST reject the request." (a non-empty append is an inconsistent length failure)', async () => {
      const created = await create(true, 'done');
      const res = await append(created.headers.location!, 4, 'more', false);
      expect(res.status).toBe(400);
      if (version >= 7) expectProblem(res, 400, 'inconsistent-upload-length');
      expect((await download(created.headers.location!)).toString()).toBe('done');
    });

    it('"If the upload is already complete ... If the client attempted to append a zero-length document" the completed-upload problem', async () => {
      const created = await create(true, 'done');
      const res = await append(created.headers.location!, 4, '', false);
      expect(res.status).toBe(400);
      if (version >= 6) expectProblem(res, 400, 'completed-upload');
    });

    it('"If multiple requests include indicators, their indicated values MUST match."', async () => {
      const url = await createEmpty({ 'Upload-Length': '6' });
      const res = await append(url, 0, 'abc', true); // says the length is 3
      expect(res.status).toBe(400);
      if (version >= 7) expectProblem(res, 400, 'inconsistent-upload-length');
      expect((await head(url)).headers['upload-offset']).toBe('0');
    });

    it('"If the length is known, the server MUST prevent the offset from exceeding the upload length by rejecting the request"', async () => {
      const url = await createEmpty({ 'Upload-Length': '4' });
      const res = await draftRequest({
        method: 'PATCH', url: onNextNode(url), headers: { ...d.complete(false), ...d.appendType, 'Upload-Offset': '0' }, chunks: ['abc', 'defgh'],
      });
      expect(res.status).toBe(413);
      expect(Number((await head(url)).headers['upload-offset'])).toBeLessThanOrEqual(4);
    });

    it('"The client MUST indicate the offset ... by including the `Upload-Offset` header field" and "The request MUST include the `Upload-Complete` header field" (refused without them)', async () => {
      const url = await createEmpty();
      const noOffset = await draftRequest({ method: 'PATCH', url, headers: { ...d.complete(false), ...d.appendType, 'Content-Length': '1' }, chunks: ['x'] });
      expect(noOffset.status).toBe(400);
      if (version >= 4) {
        const noComplete = await draftRequest({ method: 'PATCH', url, headers: { ...V, ...d.appendType, 'Upload-Offset': '0', 'Content-Length': '1' }, chunks: ['x'] });
        expect(noComplete.status).toBe(400);
        expect(JSON.parse(noComplete.body).error.code).toBe('UPLOAD_COMPLETE_REQUIRED');
        // "Other values MUST cause the entire header field to be ignored."
        const bad = await draftRequest({ method: 'PATCH', url, headers: { ...V, ...d.appendType, 'Upload-Complete': 'true', 'Upload-Offset': '0', 'Content-Length': '1' }, chunks: ['x'] });
        expect(bad.status).toBe(400);
      }
    });

    it('"A server applies a `PATCH` request with the `application/partial-upload` media type" (interop 6 on; other media types are refused with 415)', async () => {
      const url = await createEmpty();
      const res = await append(url, 0, 'abc', false, { 'Content-Type': 'text/plain' });
      expect(res.status).toBe(version >= 6 ? 415 : 204);
    });

    it('"While the request content is being processed, the server SHOULD send interim responses with a `104 (Upload Resumption Supported)` status code and the `Upload-Offset` header field set to the current offset ... These interim responses MUST NOT include the `Location` header field."', async () => {
      const url = await createEmpty();
      const piece = randomBytes(32 * 1024);
      const res = await draftRequest({
        method: 'PATCH', url: onNextNode(url), headers: { ...d.complete(true), ...d.appendType, 'Upload-Offset': '0', 'Content-Length': String(piece.length * 3) },
        chunks: [piece, piece, piece], pauseMs: 1300,
      });
      expect(res.status).toBe(200);
      const progress = res.interim.filter((i) => i.status === 104);
      if (version >= 5) {
        expect(progress.length, 'progress 104s').toBeGreaterThanOrEqual(1);
        for (const p of progress) {
          expect(p.headers.location).toBeUndefined();
          expect(Number(p.headers['upload-offset'])).toBeGreaterThan(0);
          expect(Number(p.headers['upload-offset'])).toBeLessThanOrEqual(piece.length * 3);
        }
      } else expect(progress).toEqual([]);
    });
  });

  describe('upload cancellation', () => {
    it('"Upon receiving a `DELETE` request, the server SHOULD deactivate the upload resource."', async () => {
      const url = await createEmpty();
      const res = await draftRequest({ method: 'DELETE', url: onNextNode(url), headers: V });
      expect(res.status).toBe(204);
      expect((await head(url)).status).toBe(404);
    });
  });

  describe('discovery and both protocols', () => {
    it('"When responding to an `OPTIONS` request ... the server MUST include the `Accept-Patch` header field ... MUST include the full `application/partial-upload` media type" and "The `Upload-Limit` header field SHOULD be included"', async () => {
      const res = await fetch(endpoint(), { method: 'OPTIONS', headers: V });
      expect(res.headers.get('accept-patch')).toContain('application/partial-upload');
      if (version >= 6) expect(res.headers.get('upload-limit')).toMatch(/max-size=4194304/);
      // tus discovery is unchanged on the same answer.
      expect(res.headers.get('tus-version')).toBe('1.0.0');
    });

    it('[server] an upload begun with the draft is read and finished with tus, and one begun with tus is read and finished with the draft', async () => {
      const draftUrl = (await create(false, 'draft-', { 'Upload-Length': '10' })).headers.location!;
      const tusHead = await fetch(onNextNode(draftUrl), { method: 'HEAD', headers: TUS });
      expect(tusHead.headers.get('upload-offset')).toBe('6');
      const tusPatch = await fetch(onNextNode(draftUrl), { method: 'PATCH', headers: { ...TUS, 'Content-Type': OCTET, 'Upload-Offset': '6' }, body: 'tus!' });
      expect(tusPatch.status).toBe(204);
      expect(d.readComplete((await head(draftUrl)).headers)).toBe(true);
      expect((await download(draftUrl)).toString()).toBe('draft-tus!');

      const created = await fetch(endpoint(), { method: 'POST', headers: { ...TUS, 'Upload-Defer-Length': '1' } });
      const tusUrl = new URL(created.headers.get('location')!, endpoint()).href;
      await fetch(onNextNode(tusUrl), { method: 'PATCH', headers: { ...TUS, 'Content-Type': OCTET, 'Upload-Offset': '0' }, body: 'tus-' });
      const h = await head(tusUrl);
      expect(h.headers['upload-offset']).toBe('4');
      expect(d.readComplete(h.headers)).toBe(false);
      expect((await append(tusUrl, 4, 'draft', true)).status).toBe(200);
      expect((await download(tusUrl)).toString()).toBe('tus-draft');
    });
  });
});
