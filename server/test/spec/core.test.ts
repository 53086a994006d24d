/**
 * tus 1.0.0 conformance: core protocol (headers, HEAD, PATCH, OPTIONS) and the error body format.
 * Each test name (or the comment above it) quotes the spec sentence it checks; names starting with
 * "[server]" check a behaviour this server chose where the spec leaves room.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  EXTENSIONS, OCTET, TUS, create, createUpload, del, download, expectError, head, offsetOf, options, patch, post,
  sleep, uploadCount, useServer, waitFor,
} from './helpers.js';

const server = useServer({ MAX_SIZE: '1000' });

describe('core: headers', () => {
  it('The `Upload-Offset` request and response header indicates a byte offset within a resource. The value MUST be a non-negative integer.', async () => {
    const url = await createUpload(server().tusUrl, 10);
    const res = await patch(url, 0, 'abc');
    expect(res.headers.get('upload-offset')).toMatch(/^\d+$/);
    expect((await head(url)).headers.get('upload-offset')).toMatch(/^\d+$/);
    // A request value that is not a non-negative integer is refused and changes nothing.
    for (const bad of ['-1', 'abc', '1.5', '3x', '']) {
      await expectError(await patch(url, bad, 'def'), 400);
    }
    await expectError(await fetch(url, { method: 'PATCH', headers: { ...TUS, 'Content-Type': OCTET }, body: 'def' }), 400);
    expect(await offsetOf(url)).toBe(3);
  });

  it('The `Upload-Length` request and response header indicates the size of the entire upload in bytes. The value MUST be a non-negative integer.', async () => {
    const url = await createUpload(server().tusUrl, 10);
    expect((await head(url)).headers.get('upload-length')).toBe('10');
    const before = await uploadCount(server());
    for (const bad of ['-1', 'abc', '1.5', '1e3']) {
      await expectError(await post(server().tusUrl, { 'Upload-Length': bad }), 400);
    }
    expect(await uploadCount(server())).toBe(before);
  });

  it('The `Tus-Version` response header MUST be a comma-separated list of protocol versions supported by the Server.', async () => {
    const value = (await options(server().tusUrl)).headers.get('tus-version');
    expect(value).toBeTruthy();
    const versions = value!.split(',').map((v) => v.trim());
    for (const v of versions) expect(v).toMatch(/^\d+\.\d+\.\d+$/);
    expect(versions).toContain('1.0.0');
  });

  it("The list MUST be sorted by Server's preference where the first one is the most preferred one.", async () => {
    const value = (await options(server().tusUrl)).headers.get('tus-version')!;
    expect(value.split(',')[0].trim()).toBe('1.0.0');
  });

  it('The `Tus-Resumable` header MUST be included in every request and response except for `OPTIONS` requests.', async () => {
    const created = await post(server().tusUrl, { 'Upload-Length': '3' });
    const url = new URL(created.headers.get('location')!, server().tusUrl).href;
    const responses = [
      created,
      await head(url),
      await patch(url, 5, 'x'), // 409
      await patch(url, 0, 'x', { 'Content-Type': 'text/plain' }), // 415
      await patch(url, 0, 'abc'), // 204
      await head(`${server().tusUrl}/doesnotexist`), // 404
      await post(server().tusUrl, { 'Tus-Resumable': '0.2.2', 'Upload-Length': '3' }), // 412
      await del(url), // 204
    ];
    for (const res of responses) expect(res.headers.get('tus-resumable'), `status ${res.status}`).not.toBeNull();
  });

  it('The value MUST be the version of the protocol used by the Client or the Server.', async () => {
    const created = await post(server().tusUrl, { 'Upload-Length': '3' });
    const url = new URL(created.headers.get('location')!, server().tusUrl).href;
    for (const res of [created, await head(url), await patch(url, 0, 'abc'), await del(url)]) {
      expect(res.headers.get('tus-resumable')).toBe('1.0.0');
    }
  });

  it('If the version specified by the Client is not supported by the Server, it MUST respond with the `412 Precondition Failed` status and MUST include the `Tus-Version` header into the response.', async () => {
    const url = await createUpload(server().tusUrl, 10);
    for (const version of ['0.2.2', '2.0.0', 'banana']) {
      const v = { 'Tus-Resumable': version };
      const responses = [
        await post(server().tusUrl, { ...v, 'Upload-Length': '3' }),
        await head(url, v),
        await patch(url, 0, 'abc', v),
        await del(url, v),
      ];
      for (const res of responses) {
        expect(res.status, `Tus-Resumable: ${version}`).toBe(412);
        expect(res.headers.get('tus-version')).toBe('1.0.0');
      }
    }
  });

  it('[server] a missing `Tus-Resumable` on POST, HEAD, PATCH and DELETE is answered 412 with `Tus-Version: 1.0.0`', async () => {
    const url = await createUpload(server().tusUrl, 10);
    const responses = [
      await fetch(server().tusUrl, { method: 'POST', headers: { 'Upload-Length': '3' } }),
      await fetch(url, { method: 'HEAD' }),
      await fetch(url, { method: 'PATCH', headers: { 'Content-Type': OCTET, 'Upload-Offset': '0' }, body: 'abc' }),
      await fetch(url, { method: 'DELETE' }),
    ];
    for (const res of responses) {
      expect(res.status).toBe(412);
      expect(res.headers.get('tus-version')).toBe('1.0.0');
    }
    await expectError(await fetch(server().tusUrl, { method: 'POST', headers: { 'Upload-Length': '3' } }), 412, 'TUS_RESUMABLE_UNSUPPORTED');
  });

  it('In addition, the Server MUST NOT process the request.', async () => {
    const url = await createUpload(server().tusUrl, 10);
    const before = await uploadCount(server());
    const v = { 'Tus-Resumable': '0.2.2' };
    expect((await post(server().tusUrl, { ...v, 'Upload-Length': '3' })).status).toBe(412);
    expect(await uploadCount(server())).toBe(before);
    expect((await patch(url, 0, 'abc', v)).status).toBe(412);
    expect(await offsetOf(url)).toBe(0);
    expect((await del(url, v)).status).toBe(412);
    expect((await head(url)).status).toBe(200);
  });

  it('The `Tus-Extension` response header MUST be a comma-separated list of the extensions supported by the Server.', async () => {
    const value = (await options(server().tusUrl)).headers.get('tus-extension');
    expect(value).toBeTruthy();
    for (const ext of value!.split(',')) expect(ext.trim()).toMatch(/^[a-z0-9-]+$/);
  });

  it('The `Tus-Max-Size` response header MUST be a non-negative integer indicating the maximum allowed size of an entire upload in bytes.', async () => {
    const value = (await options(server().tusUrl)).headers.get('tus-max-size');
    expect(value).toBe('1000');
    expect((await post(server().tusUrl, { 'Upload-Length': '1000' })).status).toBe(201);
    expect((await post(server().tusUrl, { 'Upload-Length': '1001' })).status).toBe(413);
  });

  it('The Server SHOULD set this header if there is a known hard limit.', async () => {
    expect((await options(server().tusUrl)).headers.get('tus-max-size')).not.toBeNull();
  });
});

describe('core: HEAD', () => {
  it('The Server MUST always include the `Upload-Offset` header in the response for a `HEAD` request, even if the offset is `0`, or the upload is already considered completed.', async () => {
    const url = await createUpload(server().tusUrl, 6);
    expect((await head(url)).headers.get('upload-offset')).toBe('0');
    await patch(url, 0, 'abc');
    expect((await head(url)).headers.get('upload-offset')).toBe('3');
    await patch(url, 3, 'def');
    expect((await head(url)).headers.get('upload-offset')).toBe('6');
    const empty = await createUpload(server().tusUrl, 0);
    expect((await head(empty)).headers.get('upload-offset')).toBe('0');
  });

  it('If the size of the upload is known, the Server MUST include the `Upload-Length` header in the response.', async () => {
    const url = await createUpload(server().tusUrl, 6);
    expect((await head(url)).headers.get('upload-length')).toBe('6');
    await patch(url, 0, 'abcdef');
    expect((await head(url)).headers.get('upload-length')).toBe('6');
  });

  it('If the resource is not found, the Server SHOULD return either the `404 Not Found`, `410 Gone` or `403 Forbidden` status without the `Upload-Offset` header.', async () => {
    for (const url of [`${server().tusUrl}/doesnotexist`, `${server().tusUrl}/${'a'.repeat(40)}`]) {
      const res = await head(url);
      expect([404, 410, 403]).toContain(res.status);
      expect(res.headers.get('upload-offset')).toBeNull();
    }
  });

  it('The Server MUST prevent the client and/or proxies from caching the response by adding the `Cache-Control: no-store` header to the response.', async () => {
    const url = await createUpload(server().tusUrl, 6);
    expect((await head(url)).headers.get('cache-control')).toBe('no-store');
    await patch(url, 0, 'abcdef');
    expect((await head(url)).headers.get('cache-control')).toBe('no-store');
  });
});

describe('core: PATCH', () => {
  it('The Server SHOULD accept `PATCH` requests against any upload URL and apply the bytes contained in the message at the given offset specified by the `Upload-Offset` header.', async () => {
    const url = await createUpload(server().tusUrl, 11);
    expect((await patch(url, 0, 'hello')).status).toBe(204);
    expect((await patch(url, 5, ' world')).status).toBe(204);
    expect(await download(url)).toBe('hello world');
  });

  it('All `PATCH` requests MUST use `Content-Type: application/offset+octet-stream`, otherwise the server SHOULD return a `415 Unsupported Media Type` status.', async () => {
    const url = await createUpload(server().tusUrl, 10);
    for (const type of ['application/octet-stream', 'text/plain', 'application/offset+octet-streamx']) {
      await expectError(await patch(url, 0, 'abc', { 'Content-Type': type }), 415);
    }
    const missing = await fetch(url, { method: 'PATCH', headers: { ...TUS, 'Upload-Offset': '0' }, body: new Uint8Array([1, 2, 3]) });
    await expectError(missing, 415);
    expect(await offsetOf(url)).toBe(0);
  });

  it('If the offsets do not match, the Server MUST respond with the `409 Conflict` status without modifying the upload resource.', async () => {
    const url = await createUpload(server().tusUrl, 10);
    await patch(url, 0, 'abc');
    for (const offset of [0, 2, 4, 9]) {
      const res = await patch(url, offset, 'XY');
      expect(res.headers.get('upload-offset'), '[server] 409 carries the current offset').toBe('3');
      await expectError(res, 409);
    }
    expect(await offsetOf(url)).toBe(3);
    await patch(url, 3, 'defghij');
    expect(await download(url)).toBe('abcdefghij');
  });

  it('The Server MUST acknowledge successful `PATCH` requests with the `204 No Content` status.', async () => {
    const url = await createUpload(server().tusUrl, 4);
    const res = await patch(url, 0, 'ab');
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect((await patch(url, 2, 'cd')).status).toBe(204); // the completing PATCH too
  });

  it('It MUST include the `Upload-Offset` header containing the new offset.', async () => {
    const url = await createUpload(server().tusUrl, 4);
    expect((await patch(url, 0, 'ab')).headers.get('upload-offset')).toBe('2');
    expect((await patch(url, 2, 'cd')).headers.get('upload-offset')).toBe('4');
  });

  it('The new offset MUST be the sum of the offset before the `PATCH` request and the number of bytes received and processed or stored during the current `PATCH` request.', async () => {
    const url = await createUpload(server().tusUrl, 600);
    let offset = 0;
    for (const size of [1, 0, 99, 250, 250]) {
      const res = await patch(url, offset, Buffer.alloc(size, 7));
      expect(res.status).toBe(204);
      offset += size;
      expect(res.headers.get('upload-offset')).toBe(String(offset));
      expect(await offsetOf(url)).toBe(offset);
    }
  });

  it('If the server receives a `PATCH` request against a non-existent resource it SHOULD return a `404 Not Found` status.', async () => {
    await expectError(await patch(`${server().tusUrl}/doesnotexist`, 0, 'abc'), 404);
  });

  it('Both Client and Server, SHOULD attempt to detect and handle network errors predictably.', async () => {
    // A client stalls mid-body, then resumes from a second connection: the HEAD is answered with the
    // bytes received so far, the stalled request is answered and its connection closed.
    const url = await createUpload(server().tusUrl, 10);
    const stalled = await openPatch(url, 0, 10);
    stalled.socket.write('abcd');
    await sleep(150);
    const res = await head(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('upload-offset')).toBe('4');
    expect(await waitFor(async () => stalled.closed(), 5000)).toBe(true);
    expect(stalled.response()).toMatch(/^HTTP\/1\.1 [45]\d\d /);
    expect((await patch(url, 4, 'efghij')).headers.get('upload-offset')).toBe('10');
    expect(await download(url)).toBe('abcdefghij');
  });

  it('The Server SHOULD always attempt to store as much of the received data as possible.', async () => {
    const url = await createUpload(server().tusUrl, 10);
    const aborted = await openPatch(url, 0, 10);
    aborted.socket.write('abcd');
    await sleep(100);
    aborted.socket.destroy();
    expect(await waitFor(async () => (await offsetOf(url)) === 4, 5000)).toBe(true);
  });
});

describe('core: OPTIONS', () => {
  it('A successful response indicated by the `204 No Content` or `200 OK` status MUST contain the `Tus-Version` header.', async () => {
    for (const url of [server().tusUrl, await createUpload(server().tusUrl, 1)]) {
      const res = await options(url);
      expect(res.status, '[server] OPTIONS answers 200').toBe(200);
      expect(res.headers.get('tus-version')).toBe('1.0.0');
    }
  });

  it('The Client SHOULD NOT include the `Tus-Resumable` header in the request and the Server MUST ignore the header.', async () => {
    const variants: Record<string, string>[] = [{}, { 'Tus-Resumable': '1.0.0' }, { 'Tus-Resumable': '0.0.1' }];
    for (const headers of variants) {
      const res = await options(server().tusUrl, headers);
      expect(res.status).toBe(200);
      expect(res.headers.get('tus-version')).toBe('1.0.0');
    }
  });

  it('Feature detection SHOULD be achieved by the Client sending an `OPTIONS` request and the Server responding with the `Tus-Extension` header.', async () => {
    const res = await options(server().tusUrl);
    expect(res.headers.get('tus-extension')!.split(',').map((e) => e.trim())).toEqual(EXTENSIONS);
    expect(res.headers.get('tus-checksum-algorithm')).toBe('sha1,md5,sha256,sha512');
  });
});

describe('[server] error bodies', () => {
  it('[server] every error is JSON {"error":{"code","message"}}', async () => {
    const url = await create(server().tusUrl, { 'Upload-Length': '3' });
    await expectError(await patch(url, 1, 'x'), 409, 'OFFSET_MISMATCH');
    await expectError(await patch(url, 0, 'x', { 'Content-Type': 'text/plain' }), 415, 'INVALID_CONTENT_TYPE');
    await expectError(await patch(`${server().tusUrl}/nope`, 0, 'x'), 404, 'UPLOAD_NOT_FOUND');
    await expectError(await post(server().tusUrl, { 'Upload-Length': '5000' }), 413, 'MAX_SIZE_EXCEEDED');
    await expectError(await post(server().tusUrl, {}), 400, 'LENGTH_REQUIRED');
    await expectError(await patch(url, 0, 'x', { 'Upload-Checksum': 'sha1 AAAA' }), 460, 'CHECKSUM_MISMATCH');
    await expectError(await post(server().tusUrl, { 'Upload-Length': '3', 'Tus-Resumable': '0.2.2' }), 412, 'TUS_RESUMABLE_UNSUPPORTED');
  });
});

interface OpenPatch {
  socket: net.Socket;
  response(): string;
  closed(): boolean;
}

/** A PATCH whose headers are sent on a raw socket, announcing `length` body bytes the test writes itself. */
function openPatch(url: string, offset: number, length: number): Promise<OpenPatch> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname, () => {
      socket.write(
        `PATCH ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nTus-Resumable: 1.0.0\r\nContent-Type: ${OCTET}\r\n` +
          `Upload-Offset: ${offset}\r\nContent-Length: ${length}\r\n\r\n`,
      );
      resolve({ socket, response: () => received, closed: () => closed });
    });
    let received = '';
    let closed = false;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (received += d));
    socket.on('close', () => (closed = true));
    socket.on('error', reject);
  });
}
