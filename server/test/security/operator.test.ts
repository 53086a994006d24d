/**
 * The operator identity (`OPERATOR_TOKEN`): reaches any owner's upload through the upload API, creates
 * none; another bearer is a user as before; without the setting the same bearer is just a bad token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_ENV, bearer, TUS, userToken } from '@tus-edge/testkit';
import { requireOperator } from '../../src/auth/identity.js';
import { startTestServer, type TestServer } from '../harness.js';

const OPERATOR_TOKEN = 'operator-token-0123456789abcdefghijkl';

describe('operator token', () => {
  let server: TestServer;
  let uploadId = '';
  beforeAll(async () => {
    server = await startTestServer({ ...AUTH_ENV, OPERATOR_TOKEN, PROCESSORS_IN_PROCESS: 'false' });
    const created = await fetch(server.tusUrl, {
      method: 'POST',
      headers: { ...TUS, 'Upload-Length': '3', 'Content-Type': 'application/offset+octet-stream', ...bearer(await userToken('alice')) },
      body: 'abc',
    });
    uploadId = created.headers.get('location')!.split('/').pop()!;
  });
  afterAll(() => server?.close());

  it("reads any owner's upload and creates none", async () => {
    const read = await fetch(`${server.url}/api/uploads/${uploadId}`, { headers: bearer(OPERATOR_TOKEN) });
    expect(read.status).toBe(200);
    const bob = await fetch(`${server.url}/api/uploads/${uploadId}`, { headers: bearer(await userToken('bob')) });
    expect(bob.status).toBe(404);
    const create = await fetch(server.tusUrl, { method: 'POST', headers: { ...TUS, 'Upload-Length': '3', ...bearer(OPERATOR_TOKEN) } });
    expect(create.status).toBe(403);
    expect(((await create.json()) as { error: { code: string } }).error.code).toBe('TOKEN_SCOPE');
  });

  it('is recognised only by requireOperator', () => {
    expect(() => requireOperator({ kind: 'operator', address: '127.0.0.1' })).not.toThrow();
    expect(() => requireOperator({ kind: 'user', owner: 'alice', address: '127.0.0.1' })).toThrow(/OPERATOR_TOKEN/);
    expect(() => requireOperator({ kind: 'anonymous', address: '127.0.0.1' })).toThrow(/OPERATOR_TOKEN/);
  });
});
