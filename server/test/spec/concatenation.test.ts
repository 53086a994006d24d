/**
 * tus 1.0.0 conformance: Concatenation and concatenation-unfinished.
 * Each test name (or the comment above it) quotes the spec sentence it checks; names starting with
 * "[server]" check a behaviour this server chose where the spec leaves room.
 */
import { MemoryPublisher } from '@tus-edge/testkit';
import { describe, expect, it } from 'vitest';
import {
  b64, create, createUpload, del, download, expectError, head, idOf, offsetOf, options, patch, post, uploadCount, useServer,
  waitFor,
} from './helpers.js';

const events = new MemoryPublisher();
const server = useServer({ MAX_SIZE: '1000' }, { events });

/** Creates a partial upload of `length` bytes, optionally with its body. */
function partial(length: number, body?: string, headers: Record<string, string> = {}): Promise<string> {
  return create(server().tusUrl, { 'Upload-Length': String(length), 'Upload-Concat': 'partial', ...headers }, body);
}

/** "hello" + " world" as two finished partial uploads. */
async function helloWorld(): Promise<[string, string]> {
  return [await partial(5, 'hello'), await partial(6, ' world')];
}

function final(parts: string[], headers: Record<string, string> = {}): Promise<string> {
  return create(server().tusUrl, { 'Upload-Concat': `final;${parts.join(' ')}`, ...headers });
}

function relative(url: string): string {
  return new URL(url).pathname;
}

function eventFor(url: string): unknown {
  return events.events.get(`upload-${idOf(url)}`);
}

describe('concatenation', () => {
  it('If the Server supports this extension, it MUST add `concatenation` to the `Tus-Extension` header.', async () => {
    const list = (await options(server().tusUrl)).headers.get('tus-extension')!.split(',').map((e) => e.trim());
    expect(list).toContain('concatenation');
  });

  it('The Server SHOULD NOT process these partial uploads until they are concatenated to form a final upload.', async () => {
    // Processing here means the completion event that feeds the processing pipeline.
    const [a, b] = await helloWorld();
    expect(await offsetOf(a)).toBe(5);
    expect(eventFor(a), 'completion event for a finished partial upload').toBeUndefined();
    expect(eventFor(b), 'completion event for a finished partial upload').toBeUndefined();
    const ab = await final([a, b]);
    expect(await waitFor(async () => eventFor(ab) !== undefined, 3000)).toBe(true);
  });

  it('The length of the final upload MUST be the sum of the length of all partial uploads.', async () => {
    const [a, b] = await helloWorld();
    const empty = await partial(0);
    const url = await final([a, empty, b]);
    expect((await head(url)).headers.get('upload-length')).toBe('11');
    expect(await download(url)).toBe('hello world');
  });

  it('The partial uploads MUST be concatenated as per the order specified in the list.', async () => {
    const [a, b] = await helloWorld();
    expect(await download(await final([b, a]))).toBe(' worldhello');
    expect(await download(await final([a, b]))).toBe('hello world');
    const c = await partial(3, 'abc');
    expect(await download(await final([c, a, c]))).toBe('abchelloabc');
  });

  it('The Client MUST NOT include the `Upload-Length` header in the final upload creation.', async () => {
    // [server] a final upload creation carrying Upload-Length is refused with 400 and creates nothing.
    const [a, b] = await helloWorld();
    const before = await uploadCount(server());
    const res = await post(server().tusUrl, { 'Upload-Concat': `final;${a} ${b}`, 'Upload-Length': '11' });
    await expectError(res, 400, 'CONCAT_LENGTH_FORBIDDEN');
    expect(await uploadCount(server())).toBe(before);
  });

  it('This feature MUST be explicitly announced by the Server by adding `concatenation-unfinished` to the `Tus-Extension` header.', async () => {
    const list = (await options(server().tusUrl)).headers.get('tus-extension')!.split(',').map((e) => e.trim());
    expect(list).toContain('concatenation-unfinished');
    // [server] and the feature works: a final upload of unfinished partials is assembled once they finish.
    const a = await partial(5);
    const b = await partial(6, ' wor');
    const url = await final([a, b]);
    expect((await fetch(url)).status, '[server] GET of an unassembled final upload').toBe(409);
    await patch(a, 0, 'hello');
    expect((await head(url)).headers.get('upload-offset')).toBeNull();
    await patch(b, 4, 'ld');
    expect(await download(url)).toBe('hello world');
  });

  it("When creating a new final upload the partial uploads' metadata SHALL NOT be transferred to the new final upload.", async () => {
    const meta = { 'Upload-Metadata': `filename ${b64('part.bin')}` };
    const a = await partial(5, 'hello', meta);
    const b = await partial(6, ' world', meta);
    expect((await head(await final([a, b]))).headers.get('upload-metadata')).toBeNull();
    // "All metadata SHOULD be included in the concatenation request using the `Upload-Metadata` header."
    const own = `filename ${b64('whole.txt')}`;
    expect((await head(await final([a, b], { 'Upload-Metadata': own }))).headers.get('upload-metadata')).toBe(own);
  });

  it('The Server MUST respond with the `403 Forbidden` status to `PATCH` requests against a final upload URL and MUST NOT modify the final or its partial uploads.', async () => {
    const [a, b] = await helloWorld();
    const assembled = await final([a, b]);
    await expectError(await patch(assembled, 11, 'more'), 403);
    await expectError(await patch(assembled, 0, 'HELLO WORLD'), 403);
    expect(await download(assembled)).toBe('hello world');
    expect((await head(assembled)).headers.get('upload-length')).toBe('11');

    const c = await partial(3, 'ab');
    const pending = await final([a, c]);
    await expectError(await patch(pending, 0, 'x'), 403);
    await expectError(await patch(pending, 5, 'c'), 403);
    expect((await head(pending)).headers.get('upload-offset')).toBeNull();
    expect(await offsetOf(a)).toBe(5);
    expect(await offsetOf(c)).toBe(2);
    expect(await download(a)).toBe('hello');
    await patch(c, 2, 'c');
    expect(await download(pending)).toBe('helloabc');
  });

  it('The response to a HEAD request for a final upload SHOULD NOT contain the `Upload-Offset` header unless the concatenation has been successfully finished.', async () => {
    const a = await partial(5, 'hel');
    const url = await final([a]);
    const res = await head(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('upload-offset')).toBeNull();
    await patch(a, 3, 'lo');
    expect((await head(url)).headers.get('upload-offset')).toBe('5');
  });

  it('After successful concatenation, the `Upload-Offset` and `Upload-Length` MUST be set and their values MUST be equal.', async () => {
    const [a, b] = await helloWorld();
    const res = await head(await final([a, b]));
    expect(res.headers.get('upload-offset')).toBe('11');
    expect(res.headers.get('upload-length')).toBe('11');
    const c = await partial(2);
    const late = await final([c, a]);
    await patch(c, 0, 'ab');
    const after = await head(late);
    expect(after.headers.get('upload-offset')).toBe('7');
    expect(after.headers.get('upload-length')).toBe('7');
  });

  it('The response to a HEAD request for a partial upload MUST contain the `Upload-Offset` header.', async () => {
    const a = await partial(5);
    expect((await head(a)).headers.get('upload-offset')).toBe('0');
    await patch(a, 0, 'hel');
    expect((await head(a)).headers.get('upload-offset')).toBe('3');
    await patch(a, 3, 'lo');
    await final([a]);
    expect((await head(a)).headers.get('upload-offset')).toBe('5');
  });

  it('The `Upload-Length` header MUST be included if the length of the final resource can be calculated at the time of the request.', async () => {
    // Both partial uploads have a known length, so the final length (11) can be calculated before they finish.
    const a = await partial(5, 'hel');
    const b = await partial(6);
    const created = await post(server().tusUrl, { 'Upload-Concat': `final;${a} ${b}` });
    expect(created.status).toBe(201);
    const url = new URL(created.headers.get('location')!, server().tusUrl).href;
    expect((await head(url)).headers.get('upload-length'), 'HEAD of a final upload whose partials are unfinished').toBe('11');
  });

  // "Response to `HEAD` request against partial or final upload MUST include the `Upload-Concat`
  // header and its value as received in the upload creation request."
  describe('Response to `HEAD` request against partial or final upload MUST include the `Upload-Concat` header and its value as received in the upload creation request.', () => {
    it('partial upload', async () => {
      expect((await head(await partial(1, 'x'))).headers.get('upload-concat')).toBe('partial');
    });

    it('final upload created with relative partial URLs', async () => {
      const [a, b] = await helloWorld();
      const value = `final;${relative(a)} ${relative(b)}`;
      const url = await create(server().tusUrl, { 'Upload-Concat': value });
      expect((await head(url)).headers.get('upload-concat')).toBe(value);
    });

    it('final upload created with absolute partial URLs (as returned in Location)', async () => {
      const [a, b] = await helloWorld();
      const value = `final;${a} ${b}`;
      const url = await create(server().tusUrl, { 'Upload-Concat': value });
      expect((await head(url)).headers.get('upload-concat')).toBe(value);
    });
  });

  it('If the upload is a partial one, the header value MUST be `partial`.', async () => {
    // [server] any other non-final value is refused with 400 and creates nothing.
    const before = await uploadCount(server());
    for (const value of ['partial;', 'Partial', 'parts', 'partial final']) {
      await expectError(await post(server().tusUrl, { 'Upload-Length': '3', 'Upload-Concat': value }), 400);
    }
    expect(await uploadCount(server())).toBe(before);
  });

  it('In the case of a final upload, its value MUST be `final` followed by a semicolon and a space-separated list of partial upload URLs that will be concatenated.', async () => {
    // [server] malformed lists, and URLs that are not partial uploads of this server, are refused with 400.
    const [a] = await helloWorld();
    const plain = await createUpload(server().tusUrl, 3);
    const before = await uploadCount(server());
    const bad = [
      'final', 'final;', `final ${a}`, `final,${a}`, `final;${plain}`, `final;${a} ${plain}`,
      `final;${server().tusUrl}/doesnotexist`, `final;http://elsewhere.example/other/${idOf(a)}`,
    ];
    for (const value of bad) {
      await expectError(await post(server().tusUrl, { 'Upload-Concat': value }), 400);
    }
    expect(await uploadCount(server())).toBe(before);
  });

  // "The partial uploads URLs MAY be absolute or relative and MUST NOT contain
  // spaces as defined in [RFC 3986](https://tools.ietf.org/html/rfc3986)."
  it('The partial uploads URLs MAY be absolute or relative and MUST NOT contain spaces as defined in RFC 3986.', async () => {
    const [a, b] = await helloWorld();
    expect(await download(await final([a, relative(b)]))).toBe('hello world');
    expect(await download(await final([relative(a), b]))).toBe('hello world');
  });

  it('[server] a final upload whose partial was terminated answers 410 at once, instead of waiting until it expires', async () => {
    const a = await partial(5);
    const b = await partial(6, ' world');
    const url = await final([a, b]);
    expect((await del(a)).status).toBe(204);
    expect((await head(url)).status).toBe(410);
    // A finished partial terminated while the final waits for another: the final is abandoned when the other finishes.
    const c = await partial(5, 'hello');
    const d = await partial(6);
    const other = await final([c, d]);
    expect((await del(c)).status).toBe(204);
    expect((await head(other)).headers.get('upload-offset')).toBeNull();
    await patch(d, 0, ' world');
    expect(await waitFor(async () => (await head(other)).status === 410)).toBe(true);
    expect((await fetch(other)).status).toBe(410);
  });

  it('[server] a final upload longer than `Tus-Max-Size` is refused with 413', async () => {
    const a = await partial(600);
    const b = await partial(600);
    const before = await uploadCount(server());
    await expectError(await post(server().tusUrl, { 'Upload-Concat': `final;${a} ${b}` }), 413);
    expect(await uploadCount(server())).toBe(before);
  });
});
