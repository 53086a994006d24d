/**
 * tus 1.0.0 conformance: X-HTTP-Method-Override, and the CORS behaviour browsers need to speak tus.
 * Each test name (or the comment above it) quotes the spec sentence it checks; names starting with
 * "[server]" check a behaviour this server chose where the spec leaves room.
 */
import { describe, expect, it } from 'vitest';
import {
  OCTET, TUS, create, createUpload, download, expectError, head, offsetOf, patch, rawRequest, uploadCount,
  useServer,
} from './helpers.js';

const ORIGIN = 'https://app.example';
const server = useServer({ CORS_ORIGINS: ORIGIN });

/** A POST carrying `X-HTTP-Method-Override: method`. */
function overridden(url: string, method: string, headers: Record<string, string> = {}, body?: string): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { ...TUS, 'X-HTTP-Method-Override': method, ...headers }, body });
}

describe('X-HTTP-Method-Override', () => {
  it("The `X-HTTP-Method-Override` request header MUST be a string which MUST be interpreted as the request's method by the Server, if the header is presented.", async () => {
    const url = await createUpload(server().tusUrl, 6);
    const patched = await overridden(url, 'PATCH', { 'Content-Type': OCTET, 'Upload-Offset': '0' }, 'abc');
    expect(patched.status).toBe(204);
    expect(patched.headers.get('upload-offset')).toBe('3');

    const headed = await overridden(url, 'HEAD');
    expect(headed.status).toBe(200);
    expect(headed.headers.get('upload-offset')).toBe('3');
    expect(headed.headers.get('upload-length')).toBe('6');
    expect(headed.headers.get('cache-control')).toBe('no-store');

    expect((await overridden(url, 'patch', { 'Content-Type': OCTET, 'Upload-Offset': '3' }, 'def')).status).toBe(204);
    expect(await download(url)).toBe('abcdef');

    const deleted = await overridden(url, 'DELETE');
    expect(deleted.status).toBe(204);
    expect((await head(url)).status).toBe(404);
  });

  it('The actual method of the request MUST be ignored.', async () => {
    // A POST to the creation URL that says it is a PATCH creates nothing.
    const before = await uploadCount(server());
    const res = await overridden(server().tusUrl, 'PATCH', { 'Upload-Length': '5' });
    expect(res.status).not.toBe(201);
    expect(res.headers.get('location')).toBeNull();
    await res.arrayBuffer();
    expect(await uploadCount(server())).toBe(before);
    // A POST to an upload URL that says it is a HEAD does not write its body.
    const url = await createUpload(server().tusUrl, 5);
    const headed = await overridden(url, 'HEAD', { 'Content-Type': OCTET, 'Upload-Offset': '0' }, 'hello');
    expect(headed.status).toBe(200);
    expect(await offsetOf(url)).toBe(0);
  });

  it('[server] an overridden request still needs `Tus-Resumable`', async () => {
    const url = await createUpload(server().tusUrl, 5);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'X-HTTP-Method-Override': 'PATCH', 'Content-Type': OCTET, 'Upload-Offset': '0' },
      body: 'hello',
    });
    expect(res.headers.get('tus-version')).toBe('1.0.0');
    await expectError(res, 412);
    expect(await offsetOf(url)).toBe(0);
  });
});

const TUS_REQUEST_HEADERS = [
  'Tus-Resumable', 'Upload-Length', 'Upload-Offset', 'Upload-Metadata', 'Upload-Defer-Length', 'Upload-Concat',
  'Upload-Checksum', 'Content-Type', 'X-HTTP-Method-Override',
];
const TUS_RESPONSE_HEADERS = [
  'Location', 'Upload-Offset', 'Upload-Length', 'Upload-Defer-Length', 'Upload-Metadata', 'Upload-Concat', 'Upload-Expires',
  'Tus-Resumable', 'Tus-Version', 'Tus-Extension', 'Tus-Max-Size', 'Tus-Checksum-Algorithm',
];

function list(value: string | null | undefined): string[] {
  return (value ?? '').split(',').map((v) => v.trim().toLowerCase()).filter(Boolean);
}

function preflight(url: string, origin: string, method: string, requestHeaders: string[]) {
  return rawRequest({
    method: 'OPTIONS',
    url,
    headers: {
      Origin: origin,
      'Access-Control-Request-Method': method,
      'Access-Control-Request-Headers': requestHeaders.join(', ').toLowerCase(),
    },
  });
}

describe('[server] CORS', () => {
  it('[server] a preflight is answered 204 with Access-Control-Allow-Origin/Methods/Headers covering tus', async () => {
    const upload = await createUpload(server().tusUrl, 5);
    for (const [url, method] of [[server().tusUrl, 'POST'], [upload, 'PATCH'], [upload, 'DELETE'], [upload, 'HEAD']]) {
      const res = await preflight(url, ORIGIN, method, TUS_REQUEST_HEADERS);
      expect(res.status, `${method} ${url}`).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
      const methods = list(res.headers['access-control-allow-methods']);
      for (const m of ['post', 'head', 'patch', 'delete', 'options']) expect(methods).toContain(m);
      const allowed = list(res.headers['access-control-allow-headers']);
      for (const h of TUS_REQUEST_HEADERS) expect(allowed, h).toContain(h.toLowerCase());
    }
  });

  it('[server] responses expose the tus headers through Access-Control-Expose-Headers', async () => {
    const o = { Origin: ORIGIN };
    const created = await fetch(server().tusUrl, { method: 'POST', headers: { ...TUS, ...o, 'Upload-Length': '5' } });
    const url = new URL(created.headers.get('location')!, server().tusUrl).href;
    const responses = [
      created,
      await head(url, { ...TUS, ...o }),
      await patch(url, 0, 'ab', o),
      await patch(url, 0, 'ab', o), // 409
      await fetch(server().tusUrl, { method: 'OPTIONS', headers: o }),
      await fetch(`${server().tusUrl}/doesnotexist`, { method: 'HEAD', headers: { ...TUS, ...o } }),
    ];
    for (const res of responses) {
      expect(res.headers.get('access-control-allow-origin'), `status ${res.status}`).toBe(ORIGIN);
      const exposed = list(res.headers.get('access-control-expose-headers'));
      for (const h of TUS_RESPONSE_HEADERS) expect(exposed, `${h} on ${res.status}`).toContain(h.toLowerCase());
    }
  });

  it('[server] an origin that is not allowed gets no Access-Control-Allow-Origin', async () => {
    const url = await create(server().tusUrl, { 'Upload-Length': '5' });
    const pre = await preflight(url, 'https://evil.example', 'PATCH', TUS_REQUEST_HEADERS);
    expect(pre.status).not.toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    const res = await head(url, { ...TUS, Origin: 'https://evil.example' });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});
