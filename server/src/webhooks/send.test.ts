import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendOnce } from './send.js';

let server: http.Server;
let url: string;
let received = 0;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    received++;
    req.resume();
    if (req.url === '/slow') return void setTimeout(() => res.writeHead(200).end(), 1000);
    res.writeHead(req.url === '/fail' ? 503 : 200).end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('one delivery attempt', () => {
  it('never connects to a private target unless allowed, also when DNS answers differently at delivery (rebinding)', async () => {
    const before = received;
    const refused = await sendOnce(`${url}/hook`, {}, '{}', { timeoutMs: 1000, allowPrivate: false });
    expect(refused).toMatchObject({ status: null, error: expect.stringMatching(/^refused: .*127\.0\.0\.1/) });
    // A name that resolved to a public address at registration now resolves to loopback.
    const rebound = await sendOnce(`http://hooks.example:${new URL(url).port}/hook`, {}, '{}', {
      timeoutMs: 1000, allowPrivate: false, resolve: async () => [{ address: '93.184.216.34', family: 4 }, { address: '127.0.0.1', family: 4 }],
    });
    expect(rebound.error).toMatch(/^refused: .*127\.0\.0\.1/);
    expect(received).toBe(before);
  });

  it('reports the status, a timeout, and connects to the address that was checked', async () => {
    expect(await sendOnce(`${url}/hook`, {}, '{"a":1}', { timeoutMs: 2000, allowPrivate: true })).toMatchObject({ status: 200, error: null });
    expect(await sendOnce(`${url}/fail`, {}, '{}', { timeoutMs: 2000, allowPrivate: true })).toMatchObject({ status: 503 });
    const slow = await sendOnce(`${url}/slow`, {}, '{}', { timeoutMs: 200, allowPrivate: true });
    expect(slow).toMatchObject({ status: null, error: 'no answer within 200 ms' });
    expect(slow.durationMs).toBeLessThan(900);
    // The name is never looked up again: the pinned address is used.
    const pinned = await sendOnce(`http://receiver.test:${new URL(url).port}/hook`, {}, '{}', {
      timeoutMs: 2000, allowPrivate: true, resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    expect(pinned.status).toBe(200);
  });
});
