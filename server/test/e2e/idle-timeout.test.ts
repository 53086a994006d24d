import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../harness.js';
import { TUS } from '@tus-edge/testkit';


describe('IDLE_TIMEOUT', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ IDLE_TIMEOUT: '1s' });
  });
  afterAll(() => server.close());

  it('"A timeout SHOULD be handled by closing the underlying connection": a stalled PATCH is closed, its bytes kept', async () => {
    const created = await fetch(server.tusUrl, { method: 'POST', headers: { ...TUS, 'Upload-Length': '1000000' } });
    const url = created.headers.get('location')!;
    const sent = randomBytes(300_000);
    const req = http.request(url, {
      method: 'PATCH',
      headers: { ...TUS, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream', 'Content-Length': '1000000' },
    });
    const closed = new Promise<number>((resolve) => {
      const started = Date.now();
      req.on('error', () => resolve(Date.now() - started));
      req.on('response', (res) => {
        res.resume();
        res.on('close', () => resolve(Date.now() - started));
      });
    });
    req.write(sent);
    const elapsed = await closed;
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(5000);
    const head = await fetch(url, { method: 'HEAD', headers: TUS });
    expect(head.headers.get('upload-offset')).toBe(String(sent.length));
  });
});
