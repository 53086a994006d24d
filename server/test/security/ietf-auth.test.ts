/**
 * The IETF draft under the same authentication and ownership as tus (AUTH_MODE=jwt): no token, no
 * upload; another user's token neither reads, appends to nor cancels it; the owner does all three.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_ENV, bearer, userToken } from '@tus-edge/testkit';
import { startTestServer, type TestServer } from '../harness.js';
import { draftRequest } from '../spec/ietf-client.js';

const V8 = { 'Upload-Draft-Interop-Version': '8' };

describe('IETF draft with AUTH_MODE=jwt', () => {
  let server: TestServer;
  let alice: Record<string, string>;
  let bob: Record<string, string>;
  beforeAll(async () => {
    server = await startTestServer({ FSYNC: 'false', ...AUTH_ENV });
    alice = bearer(await userToken('alice'));
    bob = bearer(await userToken('bob'));
  });
  afterAll(async () => {
    await server?.close();
  });

  it('creation needs a token', async () => {
    const res = await draftRequest({ method: 'POST', url: server.tusUrl, headers: { ...V8, 'Upload-Complete': '?0' } });
    expect(res.status).toBe(401);
  });

  it("only the owner reads, appends to and cancels a draft upload; another user's token is refused", async () => {
    const created = await draftRequest({ method: 'POST', url: server.tusUrl, headers: { ...V8, ...alice, 'Upload-Complete': '?0', 'Content-Length': '3' }, chunks: ['abc'] });
    expect(created.status).toBe(201);
    const url = created.headers.location!;
    const append = { ...V8, 'Upload-Complete': '?1', 'Upload-Offset': '3', 'Content-Type': 'application/partial-upload', 'Content-Length': '3' };
    for (const [method, headers, chunks] of [['HEAD', V8, []], ['PATCH', append, ['def']], ['DELETE', V8, []]] as const) {
      const res = await draftRequest({ method, url, headers: { ...headers, ...bob }, chunks: [...chunks] });
      expect([403, 404], `${method} with another user's token`).toContain(res.status);
    }
    expect((await draftRequest({ method: 'HEAD', url, headers: { ...V8, ...alice } })).headers['upload-offset']).toBe('3');
    expect((await draftRequest({ method: 'PATCH', url, headers: { ...append, ...alice }, chunks: ['def'] })).status).toBe(200);
    expect((await draftRequest({ method: 'DELETE', url, headers: { ...V8, ...alice } })).status).toBe(204);
  });
});
