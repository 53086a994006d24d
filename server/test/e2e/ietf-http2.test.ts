/**
 * HTTP/2 on the same server: `HTTP2=tls` (h2 and http/1.1 by ALPN on one port, with a self-signed
 * certificate made here) and `HTTP2=h2c` behind HAProxy. tus 1.0 and the IETF draft both run over
 * h2; the draft's `104` goes out as an informational HEADERS frame; a stream cancelled mid-body keeps
 * what arrived, like a cut HTTP/1.1 connection.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http2 from 'node:http2';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHaproxy, type HaproxyHandle } from '@tus-edge/testkit';
import { startTestServer, tempDir, type TestServer } from '../harness.js';
import { draftRequest } from '../spec/ietf-client.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const TUS = { 'tus-resumable': '1.0.0' };
const V8 = { 'upload-draft-interop-version': '8' };

interface H2Response {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  /** Informational (1xx) header blocks, in order. */
  interim: http2.IncomingHttpHeaders[];
}

/** One request on an HTTP/2 session; `pieces` are written with `pauseMs` between them; `cancelAfter` resets the stream (RST_STREAM, no END_STREAM) after that many pieces. */
function h2(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, pieces: Buffer[] = [], pauseMs = 0, cancelAfter?: number): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const interim: http2.IncomingHttpHeaders[] = [];
    const stream = session.request(headers, { endStream: pieces.length === 0 });
    const chunks: Buffer[] = [];
    let status = 0;
    let responseHeaders: http2.IncomingHttpHeaders = {};
    stream.on('headers', (h) => interim.push(h));
    stream.on('response', (h) => {
      status = Number(h[':status']);
      responseHeaders = h;
    });
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('end', () => resolve({ status, headers: responseHeaders, body: Buffer.concat(chunks), interim }));
    stream.on('error', (err) => (cancelAfter !== undefined ? resolve({ status: 0, headers: {}, body: Buffer.alloc(0), interim }) : reject(err)));
    stream.on('close', () => {
      if (cancelAfter !== undefined) resolve({ status, headers: responseHeaders, body: Buffer.concat(chunks), interim });
    });
    void (async () => {
      for (let i = 0; i < pieces.length; i++) {
        if (cancelAfter !== undefined && i === cancelAfter) {
          await new Promise((r) => setTimeout(r, 300));
          // A cut, not an end: destroy() resets the stream without END_STREAM (close() would end the
          // body first, and a body that ended is complete).
          stream.destroy();
          return;
        }
        stream.write(pieces[i]);
        if (pauseMs && i < pieces.length - 1) await new Promise((r) => setTimeout(r, pauseMs));
      }
      stream.end();
    })();
  });
}

describe('HTTP/2', () => {
  let certDir: string;
  let ca: Buffer;
  let tls: TestServer;
  let h2cServer: TestServer;
  let proxy: HaproxyHandle;
  let session: http2.ClientHttp2Session;

  beforeAll(async () => {
    certDir = await tempDir('tus-edge-cert-');
    const key = path.join(certDir, 'key.pem');
    const cert = path.join(certDir, 'cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert,
    ], { stdio: 'ignore' });
    ca = fs.readFileSync(cert);
    tls = await startTestServer({ FSYNC: 'false', HTTP2: 'tls', TLS_CERT_FILE: cert, TLS_KEY_FILE: key });
    h2cServer = await startTestServer({ FSYNC: 'false', HTTP2: 'h2c', TRUST_PROXY: 'true' });
    proxy = await startHaproxy([h2cServer.url]);
    session = http2.connect(tls.url, { ca });
  });
  afterAll(async () => {
    session?.close();
    await proxy?.stop();
    await tls?.close();
    await h2cServer?.close();
    await fsp.rm(certDir, { recursive: true, force: true });
  });

  it('HTTP2=tls serves h2 (ALPN) with https:// upload URLs; a tus upload runs over it', async () => {
    expect(tls.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const data = randomBytes(3 * 1024 * 1024);
    const created = await h2(session, { ':method': 'POST', ':path': '/files', ...TUS, 'upload-length': String(data.length) });
    expect(session.alpnProtocol).toBe('h2');
    expect(created.status).toBe(201);
    const url = new URL(String(created.headers.location));
    expect(url.protocol).toBe('https:');
    const patched = await h2(session, { ':method': 'PATCH', ':path': url.pathname, ...TUS, 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' }, [data]);
    expect(patched.status).toBe(204);
    expect(patched.headers['upload-offset']).toBe(String(data.length));
    const got = await h2(session, { ':method': 'GET', ':path': url.pathname });
    expect(sha(got.body)).toBe(sha(data));
  });

  it('the draft over h2: 104 with Location, then 104s with Upload-Offset, as informational HEADERS frames', async () => {
    const piece = randomBytes(64 * 1024);
    const res = await h2(
      session,
      { ':method': 'POST', ':path': '/files', ...V8, 'upload-complete': '?1', 'content-length': String(piece.length * 3) },
      [piece, piece, piece], 1300,
    );
    expect(res.status).toBe(200);
    const informational = res.interim.filter((h) => Number(h[':status']) === 104);
    expect(informational[0].location).toBe(res.headers.location);
    expect(informational.slice(1).some((h) => Number(h['upload-offset']) > 0)).toBe(true);
    const got = await h2(session, { ':method': 'GET', ':path': new URL(String(res.headers.location)).pathname });
    expect(sha(got.body)).toBe(sha(Buffer.concat([piece, piece, piece])));
  });

  it('a stream cancelled mid-body keeps what arrived (not complete); the upload resumes on a new stream', async () => {
    const piece = randomBytes(128 * 1024);
    const created = await h2(session, { ':method': 'POST', ':path': '/files', ...V8, 'upload-complete': '?0' });
    const pathname = new URL(String(created.headers.location)).pathname;
    await h2(session, { ':method': 'PATCH', ':path': pathname, ...V8, 'upload-complete': '?1', 'upload-offset': '0', 'content-type': 'application/partial-upload' }, [piece, piece, piece], 200, 2);
    let offset = 0;
    for (let i = 0; i < 50 && offset !== 2 * piece.length; i++) {
      const head = await h2(session, { ':method': 'HEAD', ':path': pathname, ...V8 });
      expect(head.headers['upload-complete']).toBe('?0');
      offset = Number(head.headers['upload-offset']);
      if (offset !== 2 * piece.length) await new Promise((r) => setTimeout(r, 100));
    }
    expect(offset).toBe(2 * piece.length);
    const rest = await h2(session, { ':method': 'PATCH', ':path': pathname, ...V8, 'upload-complete': '?1', 'upload-offset': String(offset), 'content-type': 'application/partial-upload' }, [piece]);
    expect(rest.status).toBe(200);
    const got = await h2(session, { ':method': 'GET', ':path': pathname });
    expect(sha(got.body)).toBe(sha(Buffer.concat([piece, piece, piece])));
  });

  it('HTTP/1.1 clients use the same TLS port (ALPN http/1.1), 104 included', async () => {
    const res = await new Promise<{ status: number; interim: number[]; location?: string }>((resolve, reject) => {
      const interim: number[] = [];
      const req = https.request(`${tls.url}/files`, { method: 'POST', ca, agent: false, headers: { ...V8, 'Upload-Complete': '?1', 'Content-Length': '5' } });
      req.on('information', (info) => interim.push(info.statusCode));
      req.on('response', (r) => {
        r.resume();
        r.on('end', () => resolve({ status: r.statusCode ?? 0, interim, location: r.headers.location }));
      });
      req.on('error', reject);
      req.end('hello');
    });
    expect(res.status).toBe(200);
    expect(res.interim).toContain(104);
    expect(res.location).toMatch(/^https:\/\//);
  });

  it('HTTP2=h2c behind HAProxy: HTTP/1.1 clients upload with tus and with the draft; HAProxy passes the 104 on', async () => {
    const data = randomBytes(2 * 1024 * 1024);
    const created = await fetch(`${proxy.url}/files`, { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(data.length) } });
    expect(created.status).toBe(201);
    const url = created.headers.get('location')!;
    expect(url).toMatch(new RegExp(`^${proxy.url}/files/`));
    const patched = await fetch(url, { method: 'PATCH', headers: { 'Tus-Resumable': '1.0.0', 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': '0' }, body: data });
    expect(patched.status).toBe(204);
    expect(sha(Buffer.from(await (await fetch(url)).arrayBuffer()))).toBe(sha(data));

    const draft = await draftRequest({ method: 'POST', url: `${proxy.url}/files`, headers: { 'Upload-Draft-Interop-Version': '8', 'Upload-Complete': '?1', 'Content-Length': '5' }, chunks: ['hello'] });
    expect(draft.status).toBe(200);
    const passed = draft.interim.filter((i) => i.status === 104);
    expect(passed.length).toBe(1);
    expect(passed[0].headers.location).toBe(draft.headers.location);
  });
});
