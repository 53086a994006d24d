/**
 * tus 1.0.0 conformance: Creation, Creation With Upload, creation-defer-length and Upload-Metadata.
 * Each test name (or the comment above it) quotes the spec sentence it checks.
 */
import { describe, expect, it } from 'vitest';
import {
  b64, create, createUpload, download, expectError, head, offsetOf, options, patch, post, rawRequest, uploadCount,
  useServer, OCTET,
} from './helpers.js';

const server = useServer({ MAX_SIZE: '1000' });

async function extensions(): Promise<string[]> {
  return (await options(server().tusUrl)).headers.get('tus-extension')!.split(',').map((e) => e.trim());
}

describe('creation', () => {
  it('If the Server supports this extension, it MUST add `creation` to the `Tus-Extension` header.', async () => {
    expect(await extensions()).toContain('creation');
  });

  it('The Server MUST acknowledge a successful upload creation with the `201 Created` status.', async () => {
    expect((await post(server().tusUrl, { 'Upload-Length': '10' })).status).toBe(201);
    expect((await post(server().tusUrl, { 'Upload-Length': '0' })).status).toBe(201);
    expect((await post(server().tusUrl, { 'Upload-Defer-Length': '1' })).status).toBe(201);
    expect((await post(server().tusUrl, { 'Upload-Length': '10' }, 'hello')).status).toBe(201);
  });

  it('The Server MUST set the `Location` header to the URL of the created resource.', async () => {
    const a = await post(server().tusUrl, { 'Upload-Length': '10' });
    const b = await post(server().tusUrl, { 'Upload-Length': '20' });
    const urlA = new URL(a.headers.get('location')!, server().tusUrl).href;
    const urlB = new URL(b.headers.get('location')!, server().tusUrl).href;
    expect(urlA).not.toBe(urlB);
    expect((await head(urlA)).headers.get('upload-length')).toBe('10');
    expect((await head(urlB)).headers.get('upload-length')).toBe('20');
    expect(await offsetOf(urlA)).toBe(0); // "The new resource has an implicit offset of `0`"
  });

  it('The request MUST include one of the following headers:', async () => {
    // [server] neither, or both, of Upload-Length and Upload-Defer-Length: 400, nothing created.
    const before = await uploadCount(server());
    await expectError(await post(server().tusUrl, {}), 400, 'LENGTH_REQUIRED');
    await expectError(await post(server().tusUrl, { 'Upload-Length': '5', 'Upload-Defer-Length': '1' }), 400, 'LENGTH_REQUIRED');
    expect(await uploadCount(server())).toBe(before);
  });

  it('If the length of the upload exceeds the maximum, which MAY be specified using the `Tus-Max-Size` header, the Server MUST respond with the `413 Request Entity Too Large` status.', async () => {
    const before = await uploadCount(server());
    await expectError(await post(server().tusUrl, { 'Upload-Length': '1001' }), 413);
    await expectError(await post(server().tusUrl, { 'Upload-Length': '1001' }, 'abc'), 413);
    expect(await uploadCount(server())).toBe(before);
    // A deferred length announced later, or bytes beyond the maximum, are refused the same way.
    const deferred = await create(server().tusUrl, { 'Upload-Defer-Length': '1' });
    await expectError(await patch(deferred, 0, 'abc', { 'Upload-Length': '1001' }), 413);
    await expectError(await patch(deferred, 0, Buffer.alloc(1001)), 413);
    expect(await offsetOf(deferred)).toBe(0);
  });
});

describe('creation: Upload-Defer-Length', () => {
  it('If the Server supports deferring length, it MUST add `creation-defer-length` to the `Tus-Extension` header.', async () => {
    expect(await extensions()).toContain('creation-defer-length');
  });

  it('Its value MUST be `1`.', async () => {
    const url = await create(server().tusUrl, { 'Upload-Defer-Length': '1' });
    expect((await head(url)).headers.get('upload-defer-length')).toBe('1');
  });

  it('If the length of an upload is not deferred, this header MUST be omitted.', async () => {
    const created = await post(server().tusUrl, { 'Upload-Length': '6' });
    expect(created.headers.get('upload-defer-length')).toBeNull();
    const url = new URL(created.headers.get('location')!, server().tusUrl).href;
    expect((await head(url)).headers.get('upload-defer-length')).toBeNull();
    // Once a deferred length is set it is no longer deferred.
    const deferred = await create(server().tusUrl, { 'Upload-Defer-Length': '1' });
    await patch(deferred, 0, 'abc', { 'Upload-Length': '6' });
    expect((await head(deferred)).headers.get('upload-defer-length')).toBeNull();
  });

  it('As long as the length of the upload is not known, the Server MUST set `Upload-Defer-Length: 1` in all responses to `HEAD` requests.', async () => {
    const url = await create(server().tusUrl, { 'Upload-Defer-Length': '1' });
    let res = await head(url);
    expect(res.headers.get('upload-defer-length')).toBe('1');
    expect(res.headers.get('upload-length')).toBeNull();
    expect((await patch(url, 0, 'hello ')).status).toBe(204);
    res = await head(url);
    expect(res.headers.get('upload-defer-length')).toBe('1');
    expect(res.headers.get('upload-offset')).toBe('6');
    // Setting the length in a PATCH finishes the deferred flow.
    const last = await patch(url, 6, 'world', { 'Upload-Length': '11' });
    expect(last.status).toBe(204);
    res = await head(url);
    expect(res.headers.get('upload-length')).toBe('11');
    expect(res.headers.get('upload-defer-length')).toBeNull();
    expect(await download(url)).toBe('hello world');
  });

  it('Once set the length MUST NOT be changed.', async () => {
    const deferred = await create(server().tusUrl, { 'Upload-Defer-Length': '1' });
    expect((await patch(deferred, 0, 'ab', { 'Upload-Length': '5' })).status).toBe(204);
    await expectError(await patch(deferred, 2, 'cd', { 'Upload-Length': '6' }), 400);
    const fixed = await createUpload(server().tusUrl, 5);
    await expectError(await patch(fixed, 0, 'ab', { 'Upload-Length': '4' }), 400);
    for (const url of [deferred, fixed]) expect((await head(url)).headers.get('upload-length')).toBe('5');
    expect(await offsetOf(deferred)).toBe(2);
    expect(await offsetOf(fixed)).toBe(0);
  });

  it('If the `Upload-Defer-Length` header contains any other value than `1` the server should return a `400 Bad Request` status.', async () => {
    const before = await uploadCount(server());
    for (const value of ['0', '2', 'true', 'yes', '']) {
      await expectError(await post(server().tusUrl, { 'Upload-Defer-Length': value }), 400);
    }
    expect(await uploadCount(server())).toBe(before);
  });
});

describe('creation: Upload-Metadata', () => {
  const META = `filename ${b64('world_domination_plan.pdf')},is_confidential,empty ,filetype ${b64('application/pdf')}`;

  it('If an upload contains additional metadata, responses to `HEAD` requests MUST include the `Upload-Metadata` header and its value as specified by the Client during the creation.', async () => {
    const url = await createUpload(server().tusUrl, 3, { 'Upload-Metadata': META });
    expect((await head(url)).headers.get('upload-metadata')).toBe(META);
    const plain = await createUpload(server().tusUrl, 3);
    expect((await head(plain)).headers.get('upload-metadata')).toBeNull();
  });

  it('The `Upload-Metadata` request and response header MUST consist of one or more comma-separated key-value pairs.', async () => {
    const url = await createUpload(server().tusUrl, 3, { 'Upload-Metadata': `a ${b64('1')},b ${b64('2')}` });
    const pairs = (await head(url)).headers.get('upload-metadata')!.split(',');
    expect(pairs).toHaveLength(2);
    // [server] a value that is not such a list is refused.
    for (const bad of [',', 'a YQ==,', ',a YQ==']) {
      await expectError(await post(server().tusUrl, { 'Upload-Length': '3', 'Upload-Metadata': bad }), 400);
    }
  });

  it('The key and value MUST be separated by a space.', async () => {
    const url = await createUpload(server().tusUrl, 3, { 'Upload-Metadata': `name ${b64('x y')}` });
    expect((await head(url)).headers.get('upload-metadata')).toBe(`name ${b64('x y')}`);
    await expectError(await post(server().tusUrl, { 'Upload-Length': '3', 'Upload-Metadata': `name ${b64('x')} extra` }), 400);
  });

  it('The key MUST NOT contain spaces and commas and MUST NOT be empty.', async () => {
    const before = await uploadCount(server());
    // (A leading empty key would be lost to HTTP's trimming of header values, so it is not first.)
    await expectError(await post(server().tusUrl, { 'Upload-Length': '3', 'Upload-Metadata': `a ${b64('1')}, ${b64('x')}` }), 400);
    await expectError(await post(server().tusUrl, { 'Upload-Length': '3', 'Upload-Metadata': `a ${b64('1')},  ${b64('x')}` }), 400);
    expect(await uploadCount(server())).toBe(before);
  });

  it('The key SHOULD be ASCII encoded and the value MUST be Base64 encoded.', async () => {
    const before = await uploadCount(server());
    for (const bad of ['name !!!!', 'name YQ', 'name Y===', 'näme YQ==']) {
      await expectError(await post(server().tusUrl, { 'Upload-Length': '3', 'Upload-Metadata': bad }), 400);
    }
    expect(await uploadCount(server())).toBe(before);
  });

  it('All keys MUST be unique.', async () => {
    const before = await uploadCount(server());
    await expectError(await post(server().tusUrl, { 'Upload-Length': '3', 'Upload-Metadata': `a ${b64('1')},a ${b64('2')}` }), 400);
    expect(await uploadCount(server())).toBe(before);
  });

  it('Since metadata can contain arbitrary binary values, Servers SHOULD carefully validate metadata values or sanitize them before using them as header values to avoid header smuggling.', async () => {
    const evil = `filename ${b64('a.txt"\r\nSet-Cookie: pwned=1\r\nX-Evil: 1')},filetype ${b64('text/html\r\nX-Evil: 1')}`;
    const url = await createUpload(server().tusUrl, 3, { 'Upload-Metadata': evil });
    expect((await patch(url, 0, 'abc')).status).toBe(204);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(res.headers.get('x-evil')).toBeNull();
    expect(res.headers.get('content-type')).not.toMatch(/html/);
    expect(res.headers.get('content-disposition') ?? '').not.toMatch(/[\r\n]/);
    expect(await res.text()).toBe('abc');
  });
});

describe('creation-with-upload', () => {
  it('If the Server supports this extension, it MUST advertise this by including `creation-with-upload` in the `Tus-Extension` header.', async () => {
    expect(await extensions()).toContain('creation-with-upload');
  });

  it('Therefore, if the Server does not offer the Creation extension, it MUST NOT offer the Creation With Upload extension either.', async () => {
    const list = await extensions();
    if (list.includes('creation-with-upload')) expect(list).toContain('creation');
  });

  it('The Client MUST include the `Content-Type: application/offset+octet-stream` header.', async () => {
    // [server] as for PATCH, another Content-Type is refused with 415 and nothing is created.
    const before = await uploadCount(server());
    await expectError(await post(server().tusUrl, { 'Upload-Length': '5', 'Content-Type': 'text/plain' }, 'hello'), 415);
    expect(await uploadCount(server())).toBe(before);
  });

  it('The Server SHOULD accept as many bytes as possible and MUST include the `Upload-Offset` header in the response and MUST set its value to the offset of the upload after applying the accepted bytes.', async () => {
    const partial = await post(server().tusUrl, { 'Upload-Length': '100' }, 'hello');
    expect(partial.status).toBe(201);
    expect(partial.headers.get('upload-offset')).toBe('5');
    const url = new URL(partial.headers.get('location')!, server().tusUrl).href;
    expect(await offsetOf(url)).toBe(5);
    expect((await patch(url, 5, Buffer.alloc(95, 0x61))).headers.get('upload-offset')).toBe('100');

    const whole = await post(server().tusUrl, { 'Upload-Length': '11' }, 'hello world');
    expect(whole.headers.get('upload-offset')).toBe('11');
    expect(await download(new URL(whole.headers.get('location')!, server().tusUrl).href)).toBe('hello world');

    const deferred = await post(server().tusUrl, { 'Upload-Defer-Length': '1' }, 'abc');
    expect(deferred.headers.get('upload-offset')).toBe('3');
  });

  it('In addition, the Client SHOULD include the `Expect: 100-continue` header in the request to receive early feedback from the Server on whether it will accept the creation request, before attempting to transfer the first chunk.', async () => {
    const res = await rawRequest({
      method: 'POST',
      url: server().tusUrl,
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '5', 'Content-Type': OCTET, 'Content-Length': '5' },
      chunks: ['hello'],
      expectContinue: true,
    });
    expect(res.continued).toBe(true);
    expect(res.status).toBe(201);
    expect(res.headers['upload-offset']).toBe('5');
  });
});
