import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/harness.js';
import { TUS } from '@tus-edge/testkit';
import { documentedApi, type DocumentedApi } from '../../test/openapi.js';


describe('GET /api/uploads/:id', () => {
  let server: TestServer;
  let api: DocumentedApi;
  beforeAll(async () => {
    server = await startTestServer();
    api = await documentedApi(server.url);
  });
  afterAll(() => server.close());

  it('describes an upload through its life', async () => {
    const created = await api.fetch(server.tusUrl, {
      method: 'POST',
      headers: { ...TUS, 'Upload-Length': '6', 'Upload-Metadata': 'filename YS50eHQ=,flag' },
    });
    const location = created.headers.get('location')!;
    const id = location.split('/').pop()!;
    let info = (await (await api.fetch(`${server.url}/api/uploads/${id}`)).json()) as Record<string, any>;
    expect(info).toMatchObject({ id, size: 6, offset: 0, state: 'created', metadata: { filename: 'a.txt', flag: null }, concat: null, completedAt: null });
    expect(Date.parse(info.expiresAt)).toBeGreaterThan(Date.now());
    const patch = (offset: number, body: string) =>
      api.fetch(location, { method: 'PATCH', headers: { ...TUS, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' }, body });
    await patch(0, 'abc');
    info = (await (await api.fetch(`${server.url}/api/uploads/${id}`)).json()) as Record<string, any>;
    expect(info).toMatchObject({ offset: 3, state: 'uploading' });
    await patch(3, 'def');
    info = (await (await api.fetch(`${server.url}/api/uploads/${id}`)).json()) as Record<string, any>;
    expect(info).toMatchObject({ offset: 6, state: 'finished', expiresAt: null });
    expect(Date.parse(info.completedAt)).toBeGreaterThan(0);
  });

  it('answers 404 with a JSON error for unknown or unsafe ids', async () => {
    for (const id of ['nope', '..%2F..%2Fetc%2Fpasswd']) {
      const res = await api.fetch(`${server.url}/api/uploads/${id}`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as any).error.code).toBe('UPLOAD_NOT_FOUND');
    }
  });
});
