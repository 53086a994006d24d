import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/harness.js';
import { documentedApi, type DocumentedApi } from '../../test/openapi.js';

describe('operations endpoints', () => {
  let server: TestServer;
  let api: DocumentedApi;
  const lines: string[] = [];
  beforeAll(async () => {
    server = await startTestServer({ LOG_LEVEL: 'info' }, {
      logger: (await import('./logger.js')).createLogger('info', {}, (l) => lines.push(l)),
    });
    api = await documentedApi(server.url);
  });
  afterAll(() => server.close());

  it('answers liveness and readiness', async () => {
    expect((await api.fetch(`${server.url}/healthz`)).status).toBe(200);
    const ready = await api.fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', circuits: {}, bulkheads: {} });
  });

  it('exports request, byte, upload and Node metrics', async () => {
    const create = await fetch(server.tusUrl, { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '3' } });
    await fetch(create.headers.get('location')!, {
      method: 'PATCH',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' },
      body: 'abc',
    });
    await fetch(server.tusUrl, { method: 'POST' });
    const text = await (await api.fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/http_requests_total\{method="PATCH",route="tus",status="204"\} 1/);
    expect(text).toMatch(/tus_bytes_received_total 3/);
    expect(text).toMatch(/tus_uploads_created_total\{concat="none"\} 1/);
    expect(text).toMatch(/tus_uploads_finished_total 1/);
    expect(text).toMatch(/tus_uploads_in_progress 0/);
    expect(text).toMatch(/tus_patch_duration_seconds_count 1/);
    expect(text).toMatch(/tus_errors_total\{code="TUS_RESUMABLE_UNSUPPORTED"\} 1/);
    expect(text).toMatch(/process_cpu_user_seconds_total/);
    expect(text).toMatch(/tus_uploads_terminated_total 0/);
  });

  it('logs one JSON line per request with a request id, echoing a given X-Request-Id', async () => {
    const res = await api.fetch(`${server.url}/api/uploads/nope`, { headers: { 'X-Request-Id': 'abc-123' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    const entry = lines.map((l) => JSON.parse(l)).find((e) => e.reqId === 'abc-123');
    expect(entry).toMatchObject({ level: 'info', msg: 'request', method: 'GET', path: '/api/uploads/nope', status: 404 });
    expect(typeof entry.ms).toBe('number');
    const generated = await api.fetch(`${server.url}/api/uploads/nope`, { headers: { 'X-Request-Id': 'bad id\twith space' } });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
