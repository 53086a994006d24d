/**
 * Bad input over real HTTP: every refused request gets the catalogued status and a JSON error body
 * with a code, and leaves the data directory exactly as it was (checked byte for byte, records
 * included, plus HEAD offsets). Also covers concurrent PATCHes and clients that disconnect mid-PATCH.
 */
import { createHash, randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { MAX_SIZE, OCTET, Res, TUS, create, expectError, expectUnchanged, openPatch, partialUpload, patch, send, sleep, tusPath, uploadFile, within, world, useBadInputServer } from './fixture.js';

useBadInputServer();

describe('POST: bad Upload-Length creates nothing', () => {
  it.each([
    ['malformed', 'abc'],
    ['negative', '-1'],
    ['non-integer', '1.5'],
    ['exponent', '1e3'],
    ['hex', '0x10'],
    ['trailing garbage', '10abc'],
    ['plus sign', '+5'],
    ['two values', '5, 6'],
  ])('%s (%j) → 400 INVALID_LENGTH', async (_name, value) => {
    const before = await world();
    const res = await send('POST', tusPath(), { ...TUS, 'Upload-Length': value });
    expectError(res, 400, 'INVALID_LENGTH');
    expect(res.headers.location).toBeUndefined();
    await expectUnchanged(before);
  });

  it('larger than MAX_SIZE → 413 MAX_SIZE_EXCEEDED', async () => {
    const before = await world();
    const res = await send('POST', tusPath(), { ...TUS, 'Upload-Length': String(MAX_SIZE + 1) });
    expectError(res, 413, 'MAX_SIZE_EXCEEDED');
    await expectUnchanged(before);
    // The boundary itself is accepted.
    expect((await send('POST', tusPath(), { ...TUS, 'Upload-Length': String(MAX_SIZE) })).status).toBe(201);
  });

  it.each([
    ['2^53', '9007199254740992'],
    ['2^53 + 1', '9007199254740993'],
    ['20 digits', '99999999999999999999'],
    ['400 digits', `1${'0'.repeat(400)}`],
  ])('beyond 2^53 (%s) is refused (400 INVALID_LENGTH or 413) and never wraps or rounds', async (_name, value) => {
    const before = await world();
    const res = await send('POST', tusPath(), { ...TUS, 'Upload-Length': value });
    expectError(res, [400, 413], ['INVALID_LENGTH', 'MAX_SIZE_EXCEEDED']);
    await expectUnchanged(before);
  });

  it('missing length, both lengths, and a bad Upload-Defer-Length → 400', async () => {
    const before = await world();
    expectError(await send('POST', tusPath(), TUS), 400, 'LENGTH_REQUIRED');
    expectError(await send('POST', tusPath(), { ...TUS, 'Upload-Length': '5', 'Upload-Defer-Length': '1' }), 400, 'LENGTH_REQUIRED');
    expectError(await send('POST', tusPath(), { ...TUS, 'Upload-Defer-Length': '2' }), 400, 'INVALID_DEFER_LENGTH');
    await expectUnchanged(before);
  });
});

describe('POST: bad Upload-Metadata creates nothing', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  it.each([
    ['invalid base64 characters', 'filename !!!!'],
    ['base64 of bad length', 'filename abc'],
    ['bad padding', 'filename YWJj='],
    // (a leading space would be stripped by the HTTP parser, so the empty key is the second pair)
    ['empty key', `a ${b64('x')}, ${b64('y')}`],
    ['three tokens', `a ${b64('x')} ${b64('y')}`],
    ['non-ASCII key', `cl\u00e9 ${b64('x')}`],
    ['duplicate keys', `a ${b64('x')},a ${b64('y')}`],
    ['duplicate keys without values', 'flag,flag'],
  ])('%s → 400 INVALID_METADATA', async (_name, value) => {
    const before = await world();
    const res = await send('POST', tusPath(), { ...TUS, 'Upload-Length': '10', 'Upload-Metadata': value });
    expectError(res, 400, 'INVALID_METADATA');
    await expectUnchanged(before);
  });

  it('an Upload-Metadata header over MAX_METADATA_BYTES (4096) → 431 METADATA_TOO_LARGE', async () => {
    const before = await world();
    const value = `big ${'QUFB'.repeat(1100)}`;
    expect(Buffer.byteLength(value)).toBeGreaterThan(4096);
    const res = await send('POST', tusPath(), { ...TUS, 'Upload-Length': '10', 'Upload-Metadata': value });
    expectError(res, 431, 'METADATA_TOO_LARGE');
    await expectUnchanged(before);
    // Just under the limit is fine.
    const ok = `big ${'QUFB'.repeat(1023)}`;
    expect(Buffer.byteLength(ok)).toBeLessThanOrEqual(4096);
    expect((await send('POST', tusPath(), { ...TUS, 'Upload-Length': '10', 'Upload-Metadata': ok })).status).toBe(201);
  });

  it('a header beyond the HTTP parser limit (20 KiB) is refused with 431 and creates nothing', async () => {
    const before = await world();
    const res = await send('POST', tusPath(), { ...TUS, 'Upload-Length': '10', 'Upload-Metadata': `big ${'QUFB'.repeat(5000)}` }).catch(
      (err: Error) => ({ status: -1, headers: {}, body: Buffer.from(err.message) }) as Res,
    );
    expect(res.status).toBe(431);
    await expectUnchanged(before);
  });
});

describe('PATCH: bad headers and bodies change nothing', () => {
  it.each([
    ['negative', '-1', 'INVALID_OFFSET'],
    ['non-numeric', 'abc', 'INVALID_OFFSET'],
    ['non-integer', '40.0', 'INVALID_OFFSET'],
    ['empty', '', 'INVALID_OFFSET'],
    ['beyond 2^53', '99999999999999999999', 'INVALID_OFFSET'],
  ])('Upload-Offset %s (%j) → 400 %s', async (_name, value, code) => {
    const up = await partialUpload(100, 40);
    const before = await world();
    const res = await send('PATCH', up.path, { ...TUS, 'Content-Type': OCTET, 'Upload-Offset': value }, up.data.subarray(40));
    expectError(res, 400, code);
    await expectUnchanged(before, up, 40);
  });

  it('missing Upload-Offset → 400 MISSING_OFFSET; wrong offset → 409 with the current offset', async () => {
    const up = await partialUpload(100, 40);
    const before = await world();
    expectError(await send('PATCH', up.path, { ...TUS, 'Content-Type': OCTET }, up.data.subarray(40)), 400, 'MISSING_OFFSET');
    for (const wrong of [0, 39, 41, 100]) {
      const res = await patch(up.path, wrong, up.data.subarray(40, 50));
      expectError(res, 409, 'OFFSET_MISMATCH');
      expect(res.headers['upload-offset']).toBe('40');
    }
    await expectUnchanged(before, up, 40);
  });

  it('missing Tus-Resumable → 412, wrong Content-Type → 415, bad checksums → 400/460', async () => {
    const up = await partialUpload(100, 40);
    const before = await world();
    const body = up.data.subarray(40);
    const noVersion = await send('PATCH', up.path, { 'Content-Type': OCTET, 'Upload-Offset': '40' }, body);
    expectError(noVersion, 412, 'TUS_RESUMABLE_UNSUPPORTED');
    expect(noVersion.headers['tus-version']).toBe('1.0.0');
    expectError(await send('PATCH', up.path, { ...TUS, 'Content-Type': 'application/octet-stream', 'Upload-Offset': '40' }, body), 415, 'INVALID_CONTENT_TYPE');
    expectError(await send('PATCH', up.path, { ...TUS, 'Upload-Offset': '40' }, body), 415, 'INVALID_CONTENT_TYPE');
    expectError(await patch(up.path, 40, body, { 'Upload-Checksum': 'sha1' }), 400, 'INVALID_CHECKSUM_HEADER');
    expectError(await patch(up.path, 40, body, { 'Upload-Checksum': 'crc32 AAAAAA==' }), 400, 'UNSUPPORTED_CHECKSUM_ALGORITHM');
    const wrongDigest = createHash('sha1').update('something else').digest('base64');
    expectError(await patch(up.path, 40, body, { 'Upload-Checksum': `sha1 ${wrongDigest}` }), 460, 'CHECKSUM_MISMATCH');
    await expectUnchanged(before, up, 40);
  });

  it('a bad Upload-Length on a deferred-length upload → 400, length stays unknown', async () => {
    const data = randomBytes(50);
    const up = await create('defer');
    expect((await patch(up.path, 0, data.subarray(0, 20))).status).toBe(204);
    const before = await world();
    for (const value of ['abc', '-1', '1.5', '99999999999999999999']) {
      expectError(await patch(up.path, 20, data.subarray(20), { 'Upload-Length': value }), 400, 'INVALID_LENGTH');
    }
    expectError(await patch(up.path, 20, data.subarray(20), { 'Upload-Length': '10' }), 400, 'LENGTH_BELOW_OFFSET');
    expectError(await patch(up.path, 20, data.subarray(20), { 'Upload-Length': String(MAX_SIZE + 1) }), 413, 'MAX_SIZE_EXCEEDED');
    await expectUnchanged(before, { ...up, data }, 20);
    const head = await send('HEAD', up.path, TUS);
    expect(head.headers['upload-defer-length']).toBe('1');
    expect(head.headers['upload-length']).toBeUndefined();
  });

  it('a body beyond Upload-Length with Content-Length → 413, offset and bytes unchanged', async () => {
    const up = await partialUpload(100, 40);
    const before = await world();
    const tooLong = Buffer.concat([up.data.subarray(40), Buffer.from('X')]);
    expectError(await patch(up.path, 40, tooLong), 413, 'BODY_EXCEEDS_LENGTH');
    await expectUnchanged(before, up, 40);

    const fresh = await partialUpload(10, 0);
    const before2 = await world();
    expectError(await patch(fresh.path, 0, randomBytes(11)), 413, 'BODY_EXCEEDS_LENGTH');
    expectError(await patch(fresh.path, 0, randomBytes(5000)), 413, 'BODY_EXCEEDS_LENGTH');
    await expectUnchanged(before2, fresh, 0);

    // The exact remainder still completes the upload.
    expect((await patch(up.path, 40, up.data.subarray(40))).status).toBe(204);
    expect((await fsp.readFile(uploadFile(up.id))).equals(up.data)).toBe(true);
  });

  it('a chunked body (no Content-Length) beyond Upload-Length → 413, offset and bytes unchanged', async () => {
    const up = await partialUpload(100, 40);
    const before = await world();
    const { req, response } = openPatch(up.path, 40, { 'Transfer-Encoding': 'chunked' });
    req.write(up.data.subarray(40, 70));
    await sleep(100);
    req.write(up.data.subarray(70, 100));
    req.write(Buffer.from('overflow'));
    req.end();
    const res = await within(response, 10_000, 'chunked PATCH');
    expect(res).not.toBe('closed');
    expectError(res as Res, 413, 'BODY_EXCEEDS_LENGTH');
    await expectUnchanged(before, up, 40);

    // The same chunked body without the overflow is accepted.
    const ok = openPatch(up.path, 40, { 'Transfer-Encoding': 'chunked' });
    ok.req.write(up.data.subarray(40, 70));
    ok.req.end(up.data.subarray(70));
    const done = (await within(ok.response, 10_000, 'chunked PATCH')) as Res;
    expect(done.status).toBe(204);
    expect(done.headers['upload-offset']).toBe('100');
    expect((await fsp.readFile(uploadFile(up.id))).equals(up.data)).toBe(true);
  });
});
