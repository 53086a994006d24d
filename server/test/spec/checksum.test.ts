/**
 * tus 1.0.0 conformance: Checksum and checksum-trailer.
 * Each test name (or the comment above it) quotes the spec sentence it checks; names starting with
 * "[server]" check a behaviour this server chose where the spec leaves room.
 */
import { describe, expect, it } from 'vitest';
import {
  CHECKSUM_ALGORITHMS, OCTET, TUS, create, createUpload, digest, download, expectError, head, offsetOf, options, patch,
  rawRequest, useServer, type RawResponse,
} from './helpers.js';

const server = useServer();

async function extensions(): Promise<string[]> {
  return (await options(server().tusUrl)).headers.get('tus-extension')!.split(',').map((e) => e.trim());
}

/** A chunked PATCH announcing `Trailer: Upload-Checksum`, with `trailer` (if any) sent after the body. */
function trailerPatch(url: string, offset: number, chunks: string[], trailer?: string): Promise<RawResponse> {
  return rawRequest({
    method: 'PATCH',
    url,
    headers: { ...TUS, 'Content-Type': OCTET, 'Upload-Offset': String(offset), Trailer: 'Upload-Checksum' },
    chunks,
    trailers: trailer === undefined ? undefined : { 'Upload-Checksum': trailer },
  });
}

describe('checksum', () => {
  it('If supported, the Server MUST add `checksum` to the `Tus-Extension` header.', async () => {
    expect(await extensions()).toContain('checksum');
  });

  it('The `Tus-Checksum-Algorithm` header MUST be included in the response to an `OPTIONS` request.', async () => {
    for (const url of [server().tusUrl, await createUpload(server().tusUrl, 1)]) {
      expect((await options(url)).headers.get('tus-checksum-algorithm')).toBeTruthy();
    }
  });

  it('The `Tus-Checksum-Algorithm` response header MUST be a comma-separated list of the checksum algorithms supported by the server.', async () => {
    const listed = (await options(server().tusUrl)).headers.get('tus-checksum-algorithm')!.split(',').map((a) => a.trim());
    expect(listed).toEqual(CHECKSUM_ALGORITHMS);
    // Every algorithm listed is in fact supported.
    for (const algorithm of listed) {
      const url = await createUpload(server().tusUrl, 5);
      const res = await patch(url, 0, 'hello', { 'Upload-Checksum': `${algorithm} ${digest(algorithm, 'hello')}` });
      expect(res.status, algorithm).toBe(204);
      expect(res.headers.get('upload-offset')).toBe('5');
    }
  });

  it('The Server MUST support at least the SHA1 checksum algorithm identified by `sha1`.', async () => {
    expect((await options(server().tusUrl)).headers.get('tus-checksum-algorithm')!.split(',')).toContain('sha1');
    const url = await createUpload(server().tusUrl, 11);
    // The spec's example: sha1 of "hello world".
    const res = await patch(url, 0, 'hello world', { 'Upload-Checksum': 'sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0=' });
    expect(res.status).toBe(204);
    expect(res.headers.get('upload-offset')).toBe('11');
  });

  it('The names of the checksum algorithms MUST only consist of ASCII characters with the modification that uppercase characters are excluded.', async () => {
    const value = (await options(server().tusUrl)).headers.get('tus-checksum-algorithm')!;
    for (const name of value.split(',')) expect(name).toMatch(/^[\x21-\x40\x5b-\x7e]+$/);
  });

  it('Once the entire request has been received, the Server MUST verify the uploaded chunk against the provided checksum using the specified algorithm.', async () => {
    for (const algorithm of CHECKSUM_ALGORITHMS) {
      const url = await createUpload(server().tusUrl, 10);
      expect((await patch(url, 0, 'hello', { 'Upload-Checksum': `${algorithm} ${digest(algorithm, 'hello')}` })).status).toBe(204);
      // Right algorithm, wrong data.
      const wrong = await patch(url, 5, 'world', { 'Upload-Checksum': `${algorithm} ${digest(algorithm, 'World')}` });
      expect(wrong.status, algorithm).toBe(460);
    }
    // A digest made with another algorithm than the one named does not verify.
    const url = await createUpload(server().tusUrl, 5);
    expect((await patch(url, 0, 'hello', { 'Upload-Checksum': `sha256 ${digest('sha512', 'hello').slice(0, 44)}` })).status).toBe(460);
    expect((await patch(url, 0, 'hello', { 'Upload-Checksum': `md5 ${digest('sha1', 'hello')}` })).status).toBe(460);
  });

  it('1) `400 Bad Request` if the checksum algorithm is not supported by the server,', async () => {
    const url = await createUpload(server().tusUrl, 5);
    for (const algorithm of ['crc32', 'sha3-256', 'blake2b512', 'md4']) {
      await expectError(await patch(url, 0, 'hello', { 'Upload-Checksum': `${algorithm} AAAAAA==` }), 400, 'UNSUPPORTED_CHECKSUM_ALGORITHM');
    }
  });

  it('2) `460 Checksum Mismatch` if the checksums mismatch or', async () => {
    const url = await createUpload(server().tusUrl, 5);
    const res = await patch(url, 0, 'hello', { 'Upload-Checksum': `sha1 ${digest('sha1', 'hellO')}` });
    await expectError(res, 460, 'CHECKSUM_MISMATCH');
  });

  it('[server] 460 is sent with the reason phrase `Checksum Mismatch` (tus names the status so)', async () => {
    // Reason phrases are not significant to HTTP clients, but respond.ts sets this one for 460 and
    // the status line should carry it rather than Node's "unknown".
    const url = await createUpload(server().tusUrl, 5);
    const res = await patch(url, 0, 'hello', { 'Upload-Checksum': `sha1 ${digest('sha1', 'hellO')}` });
    expect(res.status).toBe(460);
    expect(res.statusText).toBe('Checksum Mismatch');
  });

  it('3) `204 No Content` if the checksums match and the processing of the data succeeded.', async () => {
    const url = await createUpload(server().tusUrl, 10);
    const res = await patch(url, 0, 'hello', { 'Upload-Checksum': `sha256 ${digest('sha256', 'hello')}` });
    expect(res.status).toBe(204);
    expect(res.headers.get('upload-offset')).toBe('5');
    const last = await patch(url, 5, 'world', { 'Upload-Checksum': `md5 ${digest('md5', 'world')}` });
    expect(last.status).toBe(204);
    expect(await download(url)).toBe('helloworld');
  });

  it('In the first two cases the uploaded chunk MUST be discarded, and the upload and its offset MUST NOT be updated.', async () => {
    const url = await createUpload(server().tusUrl, 10);
    await patch(url, 0, 'hello');
    const before = await head(url);
    expect((await patch(url, 5, 'XXXXX', { 'Upload-Checksum': 'crc32 AAAAAA==' })).status).toBe(400);
    expect((await patch(url, 5, 'XXXXX', { 'Upload-Checksum': `sha1 ${digest('sha1', 'world')}` })).status).toBe(460);
    const after = await head(url);
    for (const name of ['upload-offset', 'upload-length', 'upload-expires']) {
      expect(after.headers.get(name), name).toBe(before.headers.get(name));
    }
    expect((await patch(url, 5, 'world', { 'Upload-Checksum': `sha1 ${digest('sha1', 'world')}` })).status).toBe(204);
    expect(await download(url)).toBe('helloworld');
  });

  // "In the first two cases the uploaded chunk MUST be discarded, and the upload and its offset MUST
  // NOT be updated." Here the refused PATCH also carries the deferred length (creation-defer-length).
  it('In the first two cases ... the upload and its offset MUST NOT be updated: a deferred `Upload-Length` sent with a refused chunk is not kept', async () => {
    const url = await create(server().tusUrl, { 'Upload-Defer-Length': '1' });
    const unknown = await patch(url, 0, 'hello', { 'Upload-Length': '5', 'Upload-Checksum': 'crc32 AAAAAA==' });
    expect(unknown.status).toBe(400);
    expect((await head(url)).headers.get('upload-length'), 'Upload-Length after a 400').toBeNull();
    const res = await patch(url, 0, 'hello', { 'Upload-Length': '5', 'Upload-Checksum': `sha1 ${digest('sha1', 'HELLO')}` });
    expect(res.status).toBe(460);
    const after = await head(url);
    expect(after.headers.get('upload-offset')).toBe('0');
    expect(after.headers.get('upload-length'), 'Upload-Length after a 460').toBeNull();
    expect(after.headers.get('upload-defer-length')).toBe('1');
  });

  it('The header MUST consist of the name of the used checksum algorithm and the Base64 encoded checksum separated by a space.', async () => {
    // [server] a malformed Upload-Checksum is refused with 400 and changes nothing.
    const url = await createUpload(server().tusUrl, 5);
    const good = digest('sha1', 'hello');
    for (const bad of ['sha1', `sha1:${good}`, 'sha1 not*base64!', 'sha1 abc', `sha1 ${good} extra`, `${good}`]) {
      await expectError(await patch(url, 0, 'hello', { 'Upload-Checksum': bad }), 400);
    }
    expect(await offsetOf(url)).toBe(0);
  });
});

describe('checksum-trailer', () => {
  it('If the Server can handle trailers, this behavior MUST be announced by adding `checksum-trailer` to the `Tus-Extension` header.', async () => {
    expect(await extensions()).toContain('checksum-trailer');
  });

  // "Following
  // [RFC 7230](https://tools.ietf.org/html/rfc7230#section-4.1.2) they
  // MUST be announced using the `Trailer` header and are only allowed in chunked
  // transfers."
  it('Following RFC 7230 they MUST be announced using the `Trailer` header and are only allowed in chunked transfers.', async () => {
    // [server] a chunked PATCH announcing `Trailer: Upload-Checksum` is verified against the trailer.
    const url = await createUpload(server().tusUrl, 11);
    const res = await trailerPatch(url, 0, ['hel', 'lo ', 'world'], `sha1 ${digest('sha1', 'hello world')}`);
    expect(res.status, res.body).toBe(204);
    expect(res.headers['upload-offset']).toBe('11');
    expect(await download(url)).toBe('hello world');
  });

  it('[server] a trailer checksum mismatch → 460, offset unchanged', async () => {
    const url = await createUpload(server().tusUrl, 10);
    await patch(url, 0, 'hello');
    const res = await trailerPatch(url, 5, ['wor', 'ld'], `sha256 ${digest('sha256', 'WORLD')}`);
    expect(res.status, res.body).toBe(460);
    expect(JSON.parse(res.body).error.code).toBe('CHECKSUM_MISMATCH');
    expect(await offsetOf(url)).toBe(5);
    expect((await trailerPatch(url, 5, ['wor', 'ld'], `sha256 ${digest('sha256', 'world')}`)).status).toBe(204);
    expect(await download(url)).toBe('helloworld');
  });

  it('[server] a trailer with an unknown algorithm, a malformed trailer, or an announced trailer that never comes → 400, offset unchanged', async () => {
    const url = await createUpload(server().tusUrl, 5);
    for (const trailer of ['crc32 AAAAAA==', 'sha1', 'sha1 not*base64!', undefined]) {
      const res = await trailerPatch(url, 0, ['hello'], trailer);
      expect(res.status, `trailer ${trailer}`).toBe(400);
      expect(typeof JSON.parse(res.body).error.code).toBe('string');
      expect(await offsetOf(url)).toBe(0);
    }
  });
});
