import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { spawnServer } from '../harness.js';
import { TUS } from '@tus-edge/testkit';


async function create(tusUrl: string, length: number): Promise<string> {
  const res = await fetch(tusUrl, { method: 'POST', headers: { ...TUS, 'Upload-Length': String(length) } });
  expect(res.status).toBe(201);
  return res.headers.get('location')!;
}

/** Starts a PATCH whose body is written by the caller; resolves with the response status (or 'closed'). */
function openPatch(url: string, offset: number, length: number) {
  const req = http.request(url, {
    method: 'PATCH',
    headers: { ...TUS, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream', 'Content-Length': String(length) },
  });
  const response = new Promise<number | 'closed'>((resolve) => {
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve('closed'));
  });
  return { req, response };
}

describe('graceful shutdown (SIGTERM on the real process)', () => {
  it('turns readiness off, refuses new requests, lets an in-flight PATCH finish, exits 0', async () => {
    const server = await spawnServer({ SHUTDOWN_TIMEOUT_MS: '5000' });
    const url = await create(server.tusUrl, 200_000);
    const body = randomBytes(200_000);
    const patch = openPatch(url, 0, body.length);
    patch.req.write(body.subarray(0, 100_000));
    await new Promise((r) => setTimeout(r, 200));
    server.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    const ready = await fetch(`${server.url}/readyz`, { headers: { Connection: 'close' } });
    expect(ready.status).toBe(503);
    const refused = await fetch(server.tusUrl, { method: 'POST', headers: { ...TUS, 'Upload-Length': '1', Connection: 'close' } });
    expect(refused.status).toBe(503);
    patch.req.end(body.subarray(100_000));
    expect(await patch.response).toBe(204);
    expect(await server.exited).toBe(0);

    const again = await spawnServer({}, server.dataDir);
    const head = await fetch(url.replace(server.url, again.url), { method: 'HEAD', headers: TUS });
    expect(head.headers.get('upload-offset')).toBe('200000');
    await again.terminate();
  });

  it('ends a stalled PATCH after SHUTDOWN_TIMEOUT_MS, keeping the bytes received, and exits 0', async () => {
    const server = await spawnServer({ SHUTDOWN_TIMEOUT_MS: '500' });
    const url = await create(server.tusUrl, 1_000_000);
    const patch = openPatch(url, 0, 1_000_000);
    const sent = randomBytes(300_000);
    patch.req.write(sent);
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    server.child.kill('SIGTERM');
    expect(await patch.response).toBe(503);
    expect(await server.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    patch.req.destroy();

    const again = await spawnServer({}, server.dataDir);
    const head = await fetch(url.replace(server.url, again.url), { method: 'HEAD', headers: TUS });
    expect(head.headers.get('upload-offset')).toBe(String(sent.length));
    await again.terminate();
  });
});
