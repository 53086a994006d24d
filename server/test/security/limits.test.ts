/**
 * Quotas, rate limits, content checks and upload-token limits on a real embedded server (files, in
 * process counters): what one owner may do, and what is given back when uploads end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../harness.js';
import { documentedApi, type DocumentedApi } from '../openapi.js';
import { AUTH_ENV, bearer, TUS, userToken } from '@tus-edge/testkit';

/** The document of the server under test: answers are checked against it where the tests fetch. */
let api: DocumentedApi;

const OCTETS = { ...TUS, 'Content-Type': 'application/offset+octet-stream' };
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(24, 1)]);

async function code(res: Response): Promise<string | undefined> {
  return ((await res.json().catch(() => ({}))) as { error?: { code: string } }).error?.code;
}

describe('quotas and content checks (embedded)', () => {
  let server: TestServer;
  let alice: Record<string, string>;
  let bob: Record<string, string>;
  beforeAll(async () => {
    server = await startTestServer({ ...AUTH_ENV, QUOTA_BYTES: '100', QUOTA_UPLOADS: '2', ALLOWED_TYPES: 'image/png,text/plain', RATE_LIMIT_REQUESTS: '0', RATE_LIMIT_CREATIONS: '0' });
    api = await documentedApi(server.url);
    alice = bearer(await userToken('alice'));
    bob = bearer(await userToken('bob'));
  });
  afterAll(() => server?.close());

  const create = (auth: Record<string, string>, headers: Record<string, string>) =>
    api.fetch(server.tusUrl, { method: 'POST', headers: { ...TUS, ...auth, ...headers } });
  const usage = async (auth: Record<string, string>) => ((await (await api.fetch(`${server.url}/api/usage`, { headers: auth })).json()) as { usage: { bytes: number; uploads: number } }).usage;

  it('charges length and open uploads at creation, refuses past them, and gives back on DELETE and finish', async () => {
    const a = await create(alice, { 'Upload-Length': '60' });
    expect(a.status).toBe(201);
    const tooBig = await create(alice, { 'Upload-Length': '41' });
    expect([tooBig.status, await code(tooBig)]).toEqual([413, 'QUOTA_BYTES_EXCEEDED']);
    const b = await create(alice, { 'Upload-Defer-Length': '1' });
    expect(b.status).toBe(201);
    expect(await usage(alice)).toEqual({ bytes: 60, uploads: 2 });
    const third = await create(alice, { 'Upload-Length': '1' });
    expect([third.status, await code(third)]).toEqual([403, 'QUOTA_UPLOADS_EXCEEDED']);
    // Bob has his own quota.
    expect((await create(bob, { 'Upload-Length': '100' })).status).toBe(201);

    // A deferred length past the quota is refused and nothing moves.
    const bUrl = b.headers.get('location')!;
    const over = await api.fetch(bUrl, { method: 'PATCH', headers: { ...OCTETS, ...alice, 'Upload-Offset': '0', 'Upload-Length': '50' }, body: 'hello' });
    expect([over.status, await code(over)]).toEqual([413, 'QUOTA_BYTES_EXCEEDED']);
    expect((await api.fetch(bUrl, { method: 'HEAD', headers: { ...TUS, ...alice } })).headers.get('upload-offset')).toBe('0');
    // Declared within it: charged; finishing closes the upload but keeps its bytes charged.
    const within = await api.fetch(bUrl, { method: 'PATCH', headers: { ...OCTETS, ...alice, 'Upload-Offset': '0', 'Upload-Length': '5' }, body: 'hello' });
    expect(within.status).toBe(204);
    expect(await usage(alice)).toEqual({ bytes: 65, uploads: 1 });
    expect((await api.fetch(a.headers.get('location')!, { method: 'DELETE', headers: { ...TUS, ...alice } })).status).toBe(204);
    expect(await usage(alice)).toEqual({ bytes: 5, uploads: 0 });
    expect((await api.fetch(bUrl, { method: 'DELETE', headers: { ...TUS, ...alice } })).status).toBe(204);
    expect(await usage(alice)).toEqual({ bytes: 0, uploads: 0 });
  });

  it('judges the first bytes, not the filetype: a mismatch is 415 and the upload is gone', async () => {
    const res = await create(alice, { 'Upload-Length': String(PNG.length), 'Upload-Metadata': `filetype ${Buffer.from('image/png').toString('base64')}` });
    const url = res.headers.get('location')!;
    const zip = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(PNG.length - 4)]);
    const refused = await api.fetch(url, { method: 'PATCH', headers: { ...OCTETS, ...alice, 'Upload-Offset': '0' }, body: zip });
    expect([refused.status, await code(refused)]).toEqual([415, 'TYPE_NOT_ALLOWED']);
    expect((await api.fetch(url, { method: 'HEAD', headers: { ...TUS, ...alice } })).status).toBe(404);
    expect(await usage(alice)).toEqual({ bytes: 0, uploads: 0 });

    const ok = await create(alice, { 'Upload-Length': String(PNG.length) });
    const okUrl = ok.headers.get('location')!;
    // The bytes are checked across chunks: the first PATCH carries the head, the rest follows.
    expect((await api.fetch(okUrl, { method: 'PATCH', headers: { ...OCTETS, ...alice, 'Upload-Offset': '0' }, body: PNG.subarray(0, 20) })).status).toBe(204);
    expect((await api.fetch(okUrl, { method: 'PATCH', headers: { ...OCTETS, ...alice, 'Upload-Offset': '20' }, body: PNG.subarray(20) })).status).toBe(204);
    const got = await api.fetch(okUrl, { headers: alice });
    expect(Buffer.from(await got.arrayBuffer()).equals(PNG)).toBe(true);

    // creation-with-upload is checked the same way and leaves nothing behind.
    const withBody = await api.fetch(server.tusUrl, { method: 'POST', headers: { ...OCTETS, ...alice, 'Upload-Length': '4' }, body: Buffer.from([0, 1, 2, 3]) });
    expect(withBody.status).toBe(415);
    expect(await usage(alice)).toEqual({ bytes: PNG.length, uploads: 0 });
    expect((await api.fetch(okUrl, { method: 'DELETE', headers: { ...TUS, ...alice } })).status).toBe(204);
  });
});

describe('upload tokens and rate limits (embedded)', () => {
  let server: TestServer;
  let alice: Record<string, string>;
  beforeAll(async () => {
    server = await startTestServer({ ...AUTH_ENV, RATE_LIMIT_REQUESTS: '0', RATE_LIMIT_CREATIONS: '3' });
    api = await documentedApi(server.url);
    alice = bearer(await userToken('alice'));
  });
  afterAll(() => server?.close());

  const mint = async (body: Record<string, unknown>) => {
    const res = await api.fetch(`${server.url}/api/upload-tokens`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...alice }, body: JSON.stringify(body) });
    expect(res.status).toBe(201);
    return bearer(((await res.json()) as { token: string }).token);
  };
  const create = (auth: Record<string, string>, length: number, metadata?: string) =>
    api.fetch(server.tusUrl, { method: 'POST', headers: { ...TUS, ...auth, 'Upload-Length': String(length), ...(metadata ? { 'Upload-Metadata': metadata } : {}) } });

  it('limits uploads per token and types by bytes; an expired token resumes its uploads but creates none', async () => {
    const token = await mint({ maxUploads: 1, types: ['text/plain'], expiresIn: 2 });
    const first = await create(token, 4);
    expect(first.status).toBe(201);
    const second = await create(token, 4);
    expect([second.status, await code(second)]).toEqual([403, 'UPLOAD_TOKEN_EXHAUSTED']);
    const url = first.headers.get('location')!;
    expect((await api.fetch(url, { method: 'PATCH', headers: { ...OCTETS, ...token, 'Upload-Offset': '0' }, body: 'ab' })).status).toBe(204);
    await new Promise((r) => setTimeout(r, 3100));
    // Expired: it still resumes the upload it created...
    expect((await api.fetch(url, { method: 'HEAD', headers: { ...TUS, ...token } })).headers.get('upload-offset')).toBe('2');
    expect((await api.fetch(url, { method: 'PATCH', headers: { ...OCTETS, ...token, 'Upload-Offset': '2' }, body: 'cd' })).status).toBe(204);
    // ...but cannot create, nor reach anything else of its owner.
    const late = await create(token, 1);
    expect([late.status, await code(late)]).toEqual([401, 'AUTH_EXPIRED']);
    const other = await create(alice, 1);
    expect((await api.fetch(other.headers.get('location')!, { method: 'HEAD', headers: { ...TUS, ...token } })).status).toBe(404);
    expect((await api.fetch(`${server.url}/api/usage`, { headers: token })).status).toBe(403);
  });

  it('refuses a body of another type than the token allows', async () => {
    const token = await mint({ types: ['image/*'] });
    const res = await create(token, 5);
    const refused = await api.fetch(res.headers.get('location')!, { method: 'PATCH', headers: { ...OCTETS, ...token, 'Upload-Offset': '0' }, body: 'hello' });
    expect(refused.status).toBe(415);
  });

  it('answers 429 with Retry-After past RATE_LIMIT_CREATIONS per second', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 5; i++) {
      const res = await create(alice, 1);
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
    }
    expect(statuses.filter((s) => s === 201).length).toBeLessThanOrEqual(3);
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });

  it('a final upload may only concatenate partials of the same owner', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const bob = bearer(await userToken('bob'));
    const part = await api.fetch(server.tusUrl, { method: 'POST', headers: { ...TUS, ...bob, 'Upload-Length': '1', 'Upload-Concat': 'partial' } });
    expect(part.status).toBe(201);
    const final = await api.fetch(server.tusUrl, { method: 'POST', headers: { ...TUS, ...alice, 'Upload-Concat': `final;${part.headers.get('location')}` } });
    expect([final.status, await code(final)]).toEqual([400, 'INVALID_CONCAT_PART']);
  });
});

describe('bytes per second (embedded)', () => {
  let server: TestServer;
  afterAll(() => server?.close());

  it('lets a body through, counts it, and answers 429 while the second is used up; the offset stays', async () => {
    server = await startTestServer({ ...AUTH_ENV, RATE_LIMIT_BYTES: '1KiB', RATE_LIMIT_REQUESTS: '0', RATE_LIMIT_CREATIONS: '0' });
    api = await documentedApi(server.url);
    const alice = bearer(await userToken('alice'));
    const res = await api.fetch(server.tusUrl, { method: 'POST', headers: { ...TUS, ...alice, 'Upload-Length': '4096' } });
    const url = res.headers.get('location')!;
    expect((await api.fetch(url, { method: 'PATCH', headers: { ...OCTETS, ...alice, 'Upload-Offset': '0' }, body: Buffer.alloc(2048, 97) })).status).toBe(204);
    const limited = await api.fetch(url, { method: 'PATCH', headers: { ...OCTETS, ...alice, 'Upload-Offset': '2048' }, body: Buffer.alloc(2048, 97) });
    expect([limited.status, await code(limited)]).toEqual([429, 'RATE_LIMITED']);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await api.fetch(url, { method: 'HEAD', headers: { ...TUS, ...alice } })).headers.get('upload-offset')).toBe('2048');
  });
});
