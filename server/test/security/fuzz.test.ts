/**
 * Property-based fuzzing (fast-check) of tus headers and API inputs against a real server with auth
 * on: no answer is a 5xx, a refused request never moves an upload's offset, a random signature never
 * opens a download, and nothing is written outside DATA_DIR.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDir, type TestServer } from '../harness.js';
import { AUTH_ENV, bearer, userToken } from '@tus-edge/testkit';

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const PRINTABLE = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const NUMBERISH = fc.oneof(
  fc.constantFrom('0', '10', '-1', '1e3', '0x10', '99999999999999999999', '', ' 10', '10 ', '+5', '9007199254740993', '1.5'),
  fc.nat().map(String),
  PRINTABLE,
);
const HEADER_VALUES = {
  'Upload-Offset': NUMBERISH,
  'Upload-Length': NUMBERISH,
  'Upload-Defer-Length': fc.constantFrom('1', '0', 'yes', ''),
  'Upload-Metadata': fc.oneof(PRINTABLE, fc.constantFrom('filename aGVsbG8=', 'a', 'a b,a c', 'k !!!', 'filetype dGV4dC9odG1s')),
  'Upload-Concat': fc.oneof(PRINTABLE, fc.constantFrom('partial', 'final;', 'final;/files/x', 'final;http://127.0.0.1/files/../../etc')),
  'Upload-Checksum': fc.oneof(PRINTABLE, fc.constantFrom('sha1 AAAA', 'md5 ', 'sha256 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=')),
  'Content-Type': fc.constantFrom('application/offset+octet-stream', 'text/plain', 'application/json', ''),
  'Tus-Resumable': fc.constantFrom('1.0.0', '0.2.2', ''),
  'X-HTTP-Method-Override': fc.constantFrom('PATCH', 'DELETE', 'HEAD', 'GET', 'POST', 'PUT'),
  Range: fc.oneof(PRINTABLE, fc.constantFrom('bytes=0-1', 'bytes=-5', 'bytes=5-1', 'bytes=0-0,2-3')),
};

describe('fuzz: tus headers and API inputs (auth on)', () => {
  let root = '';
  let server: TestServer;
  let upload = '';
  const auth: Record<string, string | undefined> = {};

  const head = async () => {
    const res = await fetch(upload, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0', ...bearer(auth.alice!) } });
    return res.status === 200 ? Number(res.headers.get('upload-offset')) : undefined;
  };
  const makeUpload = async () => {
    const res = await fetch(server.tusUrl, {
      method: 'POST',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '100', 'Content-Type': 'application/offset+octet-stream', ...bearer(auth.alice!) },
      body: '0123456789',
    });
    expect(res.status).toBe(201);
    upload = res.headers.get('location')!;
  };

  beforeAll(async () => {
    root = await tempDir('tus-fuzz-');
    server = await startTestServer({ ...AUTH_ENV, DATA_DIR: path.join(root, 'data'), RATE_LIMIT_REQUESTS: '0', RATE_LIMIT_CREATIONS: '0', MAX_SIZE: '1MiB' });
    auth.alice = await userToken('alice');
    auth.bob = await userToken('bob');
    auth.expired = await userToken('alice', { expiresIn: -120 });
    auth.garbage = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.';
    auth.none = undefined;
    await makeUpload();
  });
  afterAll(async () => {
    await server?.close();
    await fsp.rm(root, { recursive: true, force: true });
  });

  it('tus requests: never 5xx, a refused request never moves the offset', async () => {
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('POST', 'PATCH', 'HEAD', 'DELETE', 'GET', 'OPTIONS'),
        fc.constantFrom('collection', 'upload', 'suffix', 'random'),
        fc.string({ unit: fc.constantFrom('a', 'Z', '9', '-', '_', '.', '%2e', '%2f', '%5c', '%00', '~', '%'), maxLength: 20 }),
        fc.record(HEADER_VALUES, { requiredKeys: [] }),
        fc.constantFrom('alice', 'bob', 'expired', 'garbage', 'none'),
        fc.uint8Array({ maxLength: 64 }),
        async (method, target, segment, headers, who, body) => {
          const before = await head();
          if (before === undefined) await makeUpload();
          const offset = before ?? 10;
          const url = target === 'collection' ? server.tusUrl
            : target === 'upload' ? upload
            : target === 'suffix' ? `${upload}${segment}` : `${server.tusUrl}/${segment}`;
          const token = auth[who];
          const res = await fetch(url, {
            method,
            headers: { ...headers, ...(token ? bearer(token) : {}) },
            body: method === 'PATCH' || method === 'POST' ? body : undefined,
            signal: AbortSignal.timeout(10_000),
          });
          await res.arrayBuffer();
          seen.add(res.status);
          expect(res.status, `${method} ${url} ${JSON.stringify(headers)} as ${who}`).toBeLessThan(500);
          const after = await head();
          if (res.status >= 300 && after !== undefined) expect(after, `${method} ${url} as ${who} refused ${res.status}`).toBe(offset);
          if (who !== 'alice' && after !== undefined) expect(after).toBe(offset);
        },
      ),
      { numRuns: RUNS },
    );
    // The inputs reached the handlers, not only the auth middleware.
    expect(seen).toContain(401);
    expect([...seen].filter((s) => s !== 401 && s !== 404).length, `statuses seen: ${[...seen]}`).toBeGreaterThanOrEqual(3);
  });

  it('API inputs: never 5xx, and a signature that was not minted never opens a download', async () => {
    const id = upload.split('/').pop()!;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('tokens', 'signed-url', 'info', 'results', 'signature'),
        fc.oneof(fc.json(), PRINTABLE, fc.constantFrom('{"maxSize":-1}', '{"maxSize":1e400}', '{"types":["*/*"]}', '{"result":"../x"}', '{"expiresIn":0}', '[]', 'null')),
        fc.string({ unit: fc.constantFrom('a', '0', '.', '-', '_', '%2e', '%2f', '%00', 'é'), maxLength: 24 }),
        fc.constantFrom('alice', 'bob', 'none'),
        async (kind, body, segment, who) => {
          const token = auth[who];
          const h = token ? bearer(token) : {};
          let res: Response;
          if (kind === 'tokens') res = await fetch(`${server.url}/api/upload-tokens`, { method: 'POST', headers: h, body });
          else if (kind === 'signed-url') res = await fetch(`${server.url}/api/uploads/${segment || id}/signed-url`, { method: 'POST', headers: h, body });
          else if (kind === 'info') res = await fetch(`${server.url}/api/uploads/${segment}`, { headers: h });
          else if (kind === 'results') res = await fetch(`${server.url}/api/uploads/${id}/results/${segment}`, { headers: h });
          else {
            res = await fetch(`${upload}?expires=${encodeURIComponent(segment)}&signature=${encodeURIComponent(body.slice(0, 43))}`);
            expect(res.status).not.toBe(200);
          }
          await res.arrayBuffer();
          expect(res.status, `${kind} ${segment} ${body} as ${who}`).toBeLessThan(500);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('wrote nothing outside DATA_DIR, and only upload ids inside its uploads directory', async () => {
    expect(fs.readdirSync(root)).toEqual(['data']);
    const uploads = path.join(root, 'data', 'uploads');
    for (const name of fs.readdirSync(uploads)) expect(name).toMatch(/^[A-Za-z0-9_-]+(\.[a-z]+)?$/);
  });
});
