/**
 * Bad input over real HTTP, part two: upload ids that try to leave DATA_DIR, concurrent PATCHes on one
 * upload, and clients that disconnect mid-PATCH. Each refusal changes nothing, byte for byte.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Res, TUS, create, expectError, expectUnchanged, headOffset, openPatch, patch, send, server, sha256, sleep, tusPath, uploadFile, victimDir, within, world, useBadInputServer } from './fixture.js';

useBadInputServer();

describe('bad upload ids: 404 and nothing touched inside or outside DATA_DIR', () => {
  const victimRel = () => `../../${path.basename(victimDir)}/victim`;
  /** Encoded ids that the router hands to the tus handlers. */
  const encodedIds = () => [
    ['..%2F..%2Fetc%2Fpasswd', 'encoded ../'],
    ['%2e%2e%2f%2e%2e%2fetc%2fpasswd', 'encoded %2e%2e%2f'],
    [encodeURIComponent(victimRel()), 'encoded path to a file outside DATA_DIR'],
    [encodeURIComponent('../secret'), 'encoded path to a file in DATA_DIR outside uploads/'],
    ['..%5C..%5Cetc%5Cpasswd', 'encoded backslashes'],
    ['%5C..%5Csecret', 'encoded leading backslash'],
    ['abc%00def', 'NUL inside'],
    ['%00', 'NUL only'],
    ['a'.repeat(129), '129 characters'],
    ['a'.repeat(8000), '8000 characters'],
    ['doesNotExist', 'unknown but well-formed'],
    ['%ZZ', 'broken percent-encoding'],
  ];

  it('HEAD, PATCH, DELETE and GET answer 404 (JSON body where there is one) for every bad id', async () => {
    const before = await world();
    for (const [id, name] of encodedIds()) {
      const p = `${tusPath()}/${id}`;
      const head = await send('HEAD', p, TUS);
      expect(head.status, `HEAD ${name}`).toBe(404);
      expectError(await patch(p, 6, Buffer.from('pwned!')), 404, 'UPLOAD_NOT_FOUND');
      expectError(await patch(p, 0, Buffer.from('pwned!')), 404, 'UPLOAD_NOT_FOUND');
      expectError(await send('DELETE', p, TUS), 404, 'UPLOAD_NOT_FOUND');
      expectError(await send('GET', p, TUS), 404, 'UPLOAD_NOT_FOUND');
    }
    await expectUnchanged(before);
    expect(fs.readFileSync(path.join(victimDir, 'victim'), 'utf8')).toBe('victim');
    expect(fs.readFileSync(path.join(server.dataDir, 'secret'), 'utf8')).toBe('secret');
  });

  it('literal ../ and %2e%2e/ segments never reach an upload outside the tus path', async () => {
    const before = await world();
    const literal = [
      `${tusPath()}/../../etc/passwd`,
      `${tusPath()}/%2e%2e/%2e%2e/etc/passwd`,
      `${tusPath()}/../secret`,
      `${tusPath()}/${victimRel()}`,
    ];
    for (const p of literal) {
      expect((await send('HEAD', p, TUS)).status, `HEAD ${p}`).toBe(404);
      expectError(await patch(p, 6, Buffer.from('pwned!')), 404, ['UPLOAD_NOT_FOUND', 'NOT_FOUND']);
      expectError(await send('DELETE', p, TUS), 404, ['UPLOAD_NOT_FOUND', 'NOT_FOUND']);
      expectError(await send('GET', p, TUS), 404, ['UPLOAD_NOT_FOUND', 'NOT_FOUND']);
    }
    await expectUnchanged(before);
  });

  it('a literal backslash path is refused with a JSON error and touches nothing', async () => {
    const before = await world();
    const responses: Array<[string, Res]> = [];
    for (const p of [`${tusPath()}/..\\..\\etc\\passwd`, `${tusPath()}/..\\secret`, `${tusPath()}/abc\\def`]) {
      responses.push([`PATCH ${p}`, await patch(p, 6, Buffer.from('pwned!'))]);
      responses.push([`DELETE ${p}`, await send('DELETE', p, TUS)]);
      responses.push([`GET ${p}`, await send('GET', p, TUS)]);
    }
    await expectUnchanged(before);
    for (const [what, res] of responses) expect([400, 404], what).toContain(res.status);
    // Error bodies are JSON for every refusal, including requests refused before routing.
    for (const [what, res] of responses) {
      expect(res.headers['content-type'] ?? '', `${what} → ${res.status} with body ${JSON.stringify(res.body.toString())}`).toMatch(/^application\/json/);
      expectError(res, [400, 404], ['UPLOAD_NOT_FOUND', 'MALFORMED_REQUEST']);
    }
  });

  it('Upload-Concat final naming traversal or foreign URLs → 400 INVALID_CONCAT_PART, nothing created', async () => {
    const before = await world();
    for (const parts of [
      `${tusPath()}/..%2F..%2Fetc%2Fpasswd`,
      `${tusPath()}/../secret`,
      `/elsewhere/abc`,
      `${tusPath()}/${encodeURIComponent(victimRel())}`,
      `${tusPath()}/doesNotExist`,
    ]) {
      expectError(await send('POST', tusPath(), { ...TUS, 'Upload-Concat': `final;${parts}` }), 400, 'INVALID_CONCAT_PART');
    }
    await expectUnchanged(before);
  });
});

describe('concurrent PATCHes and disconnects', () => {
  const SIZE = 300_000;

  it('a second PATCH while the first is streaming: at most one 204, the other 400/409, bytes are a correct prefix', async () => {
    const data = randomBytes(SIZE);
    const up = await create(SIZE);
    const first = openPatch(up.path, 0, { 'Content-Length': String(SIZE) });
    first.req.write(data.subarray(0, 100_000));
    await sleep(300);
    const second = openPatch(up.path, 0, { 'Content-Length': String(SIZE) });
    second.req.end(data);

    const [a, b] = await within(Promise.all([first.response, second.response]), 15_000, 'concurrent PATCHes');
    first.req.destroy();
    second.req.destroy();
    expect(a, 'first PATCH got no response').not.toBe('closed');
    expect(b, 'second PATCH got no response').not.toBe('closed');
    const ra = a as Res;
    const rb = b as Res;
    const statuses = [ra.status, rb.status];
    expect(statuses.filter((s) => s === 204).length).toBeLessThanOrEqual(1);
    for (const r of [ra, rb]) if (r.status !== 204) expectError(r, [400, 409], ['UPLOAD_INTERRUPTED', 'OFFSET_MISMATCH']);
    // The first had written bytes, so it is interrupted and the second finds a different offset.
    expectError(ra, 400, 'UPLOAD_INTERRUPTED');
    expectError(rb, 409, 'OFFSET_MISMATCH');

    const offset = await headOffset(up.path);
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThanOrEqual(100_000);
    expect(ra.headers['upload-offset']).toBe(String(offset));
    expect(rb.headers['upload-offset']).toBe(String(offset));
    const stored = await fsp.readFile(uploadFile(up.id));
    expect(stored.length).toBe(offset);
    expect(stored.equals(data.subarray(0, offset))).toBe(true);

    // The upload can be finished from there.
    expect((await patch(up.path, offset, data.subarray(offset))).status).toBe(204);
    expect(sha256(await fsp.readFile(uploadFile(up.id)))).toBe(sha256(data));
  });

  it('a second PATCH while the first has sent no bytes yet: the first is interrupted, the second succeeds', async () => {
    const data = randomBytes(SIZE);
    const junk = randomBytes(SIZE);
    const up = await create(SIZE);
    const first = openPatch(up.path, 0, { 'Content-Length': String(SIZE) });
    first.req.flushHeaders();
    await sleep(300);
    const second = openPatch(up.path, 0, { 'Content-Length': String(SIZE) });
    second.req.end(data);
    const [a, b] = await within(Promise.all([first.response, second.response]), 15_000, 'concurrent PATCHes');
    // Whatever the first would still send must not land anywhere.
    if (!first.req.destroyed) first.req.end(junk);
    first.req.destroy();
    expect(a).not.toBe('closed');
    expect(b).not.toBe('closed');
    expectError(a as Res, 400, 'UPLOAD_INTERRUPTED');
    expect((b as Res).status).toBe(204);
    expect((b as Res).headers['upload-offset']).toBe(String(SIZE));
    await sleep(100);
    expect(await headOffset(up.path)).toBe(SIZE);
    expect(sha256(await fsp.readFile(uploadFile(up.id)))).toBe(sha256(data));
  });

  it('a client that disconnects mid-PATCH: the bytes received are kept, HEAD offset = stored size, and the upload can be finished', async () => {
    const data = randomBytes(SIZE);
    const up = await create(SIZE);
    const p = openPatch(up.path, 0, { 'Content-Length': String(SIZE) });
    p.req.write(data.subarray(0, 100_000));
    await sleep(300);
    p.req.destroy();
    expect(await within(p.response, 5000, 'aborted PATCH')).toBe('closed');

    const offset = await headOffset(up.path);
    const stored = await fsp.readFile(uploadFile(up.id));
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThanOrEqual(100_000);
    expect(stored.length).toBe(offset);
    expect(stored.equals(data.subarray(0, offset))).toBe(true);
    const record = JSON.parse(await fsp.readFile(path.join(server.dataDir, 'records', `${up.id}.json`), 'utf8'));
    expect(record.completedAt).toBeUndefined();

    // Resuming at 0 is refused; resuming at the reported offset finishes the upload.
    expect((await patch(up.path, 0, data)).status).toBe(409);
    const done = await patch(up.path, offset, data.subarray(offset));
    expect(done.status).toBe(204);
    expect(done.headers['upload-offset']).toBe(String(SIZE));
    expect(sha256(await fsp.readFile(uploadFile(up.id)))).toBe(sha256(data));
    const download = await send('GET', up.path);
    expect(download.status).toBe(200);
    expect(download.body.equals(data)).toBe(true);
  });
});
