/**
 * The IETF draft behind nginx (the stack's load balancer, tests/kit `startNginx`). Measured here:
 * nginx 1.22 does not pass a `104 (Upload Resumption Supported)` interim response on as an interim
 * response: it takes it for the final response (adds its own headers to it), streams the upstream's
 * remaining bytes — the real response — after it as a body without end, and so holds the client's
 * connection until the upstream closes its own. Behind it the server therefore runs
 * with `INTERIM_RESPONSES=false`, and clients create uploads carefully (an empty POST with
 * `Upload-Complete: ?0` gives the URL in the final response) or optimistically without resumption
 * before the final response: both work, as shown below.
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNginx, type NginxHandle } from '@tus-edge/testkit';
import { startTestServer, type TestServer } from '../harness.js';
import { draftRequest } from '../spec/ietf-client.js';

const V8 = { 'Upload-Draft-Interop-Version': '8' };
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/**
 * On one connection: sends `first`, waits for its final response (an empty 200), then sends `second`
 * and returns what came back for each (the second gets `ms` to answer).
 */
function twoOnOneConnection(port: number, first: string, second: string, ms: number): Promise<{ first: string; second: string }> {
  return new Promise((resolve) => {
    let out = '';
    let firstDone = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write(first));
    socket.setEncoding('latin1');
    const finish = () => {
      socket.destroy();
      resolve({ first: firstDone || out, second: firstDone ? out : '' });
    };
    socket.on('data', (d: string) => {
      out += d;
      if (!firstDone && /HTTP\/1\.1 200 OK\r\n(?:[^\r]+\r\n)*\r\n$/.test(out)) {
        firstDone = out;
        out = '';
        socket.write(second);
        setTimeout(finish, ms);
      }
    });
    socket.on('error', () => undefined);
    setTimeout(finish, 10_000);
  });
}

describe('IETF draft through nginx', () => {
  let withInterim: TestServer;
  let without: TestServer;
  let lbWithInterim: NginxHandle;
  let lb: NginxHandle;
  beforeAll(async () => {
    withInterim = await startTestServer({ FSYNC: 'false', TRUST_PROXY: 'true' });
    without = await startTestServer({ FSYNC: 'false', TRUST_PROXY: 'true', INTERIM_RESPONSES: 'false' });
    lbWithInterim = await startNginx([withInterim.url]);
    lb = await startNginx([without.url]);
  });
  afterAll(async () => {
    await lbWithInterim?.stop();
    await lb?.stop();
    await withInterim?.close();
    await without?.close();
  });

  it('[measured] nginx 1.22 passes the 104 on as its own final response head, the real response as raw bytes after it, and then holds the connection', async () => {
    const create = 'POST /files HTTP/1.1\r\nHost: lb\r\nUpload-Draft-Interop-Version: 8\r\nUpload-Complete: ?1\r\nContent-Length: 5\r\n\r\nhello';
    const options = 'OPTIONS /files HTTP/1.1\r\nHost: lb\r\n\r\n';
    const direct = await twoOnOneConnection(withInterim.port, create, options, 2000);
    expect(direct.first).toMatch(/^HTTP\/1\.1 104 Upload Resumption Supported\r\nLocation: [^\r]+\r\n(?:[^\r]+\r\n)*\r\nHTTP\/1\.1 200 OK\r\n/);
    expect(direct.second).toMatch(/^HTTP\/1\.1 200 OK\r\n/);

    const proxied = await twoOnOneConnection(lbWithInterim.port, create, options, 2000);
    // nginx's own headers sit on the 104: it took it for the final response ...
    expect(proxied.first).toMatch(/^HTTP\/1\.1 104 Upload Resumption Supported\r\nServer: nginx[^\r]*\r\n/);
    // ... and streams the rest of the upstream's bytes, the real 200, after it.
    expect(proxied.first).toMatch(/\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    // That "body" has no end until the upstream closes its keep-alive connection (65 s here), so the
    // next request on the client's connection waits: no answer within 2 s.
    expect(proxied.second).toBe('');
  });

  it('with INTERIM_RESPONSES=false, an optimistic creation through nginx gets its final response with Location', async () => {
    const data = randomBytes(100_000);
    const res = await draftRequest({ method: 'POST', url: `${lb.url}/files`, headers: { ...V8, 'Upload-Complete': '?1', 'Content-Length': String(data.length) }, chunks: [data] });
    expect(res.status).toBe(200);
    expect(res.interim).toEqual([]);
    expect(res.headers.location).toMatch(new RegExp(`^${lb.url}/files/`));
    expect(sha(Buffer.from(await (await fetch(res.headers.location!)).arrayBuffer()))).toBe(sha(data));
  });

  it('with INTERIM_RESPONSES=false, a careful creation (empty POST, Upload-Complete: ?0) appends and resumes through nginx', async () => {
    const data = randomBytes(256 * 1024);
    const created = await draftRequest({ method: 'POST', url: `${lb.url}/files`, headers: { ...V8, 'Upload-Complete': '?0', 'Content-Length': '0' } });
    expect(created.status).toBe(201);
    const url = created.headers.location!;
    const firstHalf = data.subarray(0, data.length / 2);
    const part = await draftRequest({
      method: 'PATCH', url, chunks: [firstHalf],
      headers: { ...V8, 'Upload-Complete': '?0', 'Upload-Offset': '0', 'Content-Type': 'application/partial-upload', 'Content-Length': String(firstHalf.length) },
    });
    expect(part.status).toBe(204);
    const head = await draftRequest({ method: 'HEAD', url, headers: V8 });
    expect(head.headers['upload-offset']).toBe(String(firstHalf.length));
    const rest = data.subarray(firstHalf.length);
    const done = await draftRequest({
      method: 'PATCH', url, chunks: [rest],
      headers: { ...V8, 'Upload-Complete': '?1', 'Upload-Offset': String(firstHalf.length), 'Content-Type': 'application/partial-upload', 'Content-Length': String(rest.length) },
    });
    expect(done.status).toBe(200);
    expect(sha(Buffer.from(await (await fetch(url)).arrayBuffer()))).toBe(sha(data));
  });
});
