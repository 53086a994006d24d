/**
 * The tus protocol by hand with curl: OPTIONS, POST creation, PATCH with --data-binary @file, HEAD,
 * GET download and DELETE, checking statuses, headers and the downloaded bytes.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDir, type TestServer } from '../harness.js';

const execFileP = promisify(execFile);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface CurlResult {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

let work: string;
let n = 0;

/** Runs curl and returns the final response (after any 100 Continue) with lower-cased header names. */
async function curl(args: string[]): Promise<CurlResult> {
  const id = ++n;
  const headerFile = path.join(work, `h${id}.txt`);
  const bodyFile = path.join(work, `b${id}.bin`);
  await execFileP('curl', ['-sS', '--noproxy', '*', '--max-time', '20', '-D', headerFile, '-o', bodyFile, ...args], {
    timeout: 25_000,
    maxBuffer: 1024 * 1024,
  });
  const raw = await fsp.readFile(headerFile, 'latin1');
  const blocks = raw.split(/\r?\n\r?\n/).filter((b) => b.trim() !== '');
  const last = blocks[blocks.length - 1].split(/\r?\n/);
  const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(last[0])?.[1]);
  const headers: Record<string, string> = {};
  for (const line of last.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const body = await fsp.readFile(bodyFile).catch(() => Buffer.alloc(0));
  return { status, headers, body };
}

const TUS_H = ['-H', 'Tus-Resumable: 1.0.0'];
const OCTET = ['-H', 'Content-Type: application/offset+octet-stream'];

describe('curl speaking tus by hand', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    work = await tempDir('tus-curl-');
  });
  afterAll(async () => {
    await server?.close();
    if (work) await fsp.rm(work, { recursive: true, force: true });
  });

  it('OPTIONS advertises version, extensions, max size and checksum algorithms', async () => {
    const res = await curl(['-X', 'OPTIONS', server.tusUrl]);
    expect([200, 204]).toContain(res.status);
    expect(res.headers['tus-version']).toBe('1.0.0');
    expect(res.headers['tus-resumable']).toBe('1.0.0');
    const extensions = res.headers['tus-extension'].split(',').map((e) => e.trim());
    for (const ext of ['creation', 'creation-with-upload', 'creation-defer-length', 'expiration', 'checksum', 'termination', 'concatenation']) {
      expect(extensions).toContain(ext);
    }
    expect(Number(res.headers['tus-max-size'])).toBeGreaterThan(0);
    expect(res.headers['tus-checksum-algorithm'].split(',')).toContain('sha1');
  });

  it('creates, patches in two parts, HEADs, downloads the same bytes, and terminates', async () => {
    const data = randomBytes(2_500_000);
    const split = 700_000;
    const part1 = path.join(work, 'part1.bin');
    const part2 = path.join(work, 'part2.bin');
    await fsp.writeFile(part1, data.subarray(0, split));
    await fsp.writeFile(part2, data.subarray(split));

    // Creation.
    const meta = `filename ${Buffer.from('curl.bin').toString('base64')},filetype ${Buffer.from('application/octet-stream').toString('base64')}`;
    const created = await curl(['-X', 'POST', ...TUS_H, '-H', `Upload-Length: ${data.length}`, '-H', `Upload-Metadata: ${meta}`, server.tusUrl]);
    expect(created.status).toBe(201);
    expect(created.headers['tus-resumable']).toBe('1.0.0');
    const location = created.headers['location'];
    expect(location).toMatch(new RegExp(`^${server.tusUrl}/[A-Za-z0-9_-]+$`));
    expect(created.headers['upload-expires']).toBeDefined();

    // HEAD of the empty upload.
    const head0 = await curl(['-I', ...TUS_H, location]);
    expect(head0.status).toBe(200);
    expect(head0.headers['upload-offset']).toBe('0');
    expect(head0.headers['upload-length']).toBe(String(data.length));
    expect(head0.headers['upload-metadata']).toBe(meta);
    expect(head0.headers['cache-control']).toBe('no-store');

    // First part.
    const p1 = await curl(['-X', 'PATCH', ...TUS_H, ...OCTET, '-H', 'Upload-Offset: 0', '--data-binary', `@${part1}`, location]);
    expect(p1.status).toBe(204);
    expect(p1.headers['upload-offset']).toBe(String(split));
    expect(p1.headers['tus-resumable']).toBe('1.0.0');

    const head1 = await curl(['-I', ...TUS_H, location]);
    expect(head1.status).toBe(200);
    expect(head1.headers['upload-offset']).toBe(String(split));

    // Download before the end is refused.
    const early = await curl([location]);
    expect(early.status).toBe(409);

    // A PATCH at the wrong offset is refused with the current offset.
    const wrong = await curl(['-X', 'PATCH', ...TUS_H, ...OCTET, '-H', 'Upload-Offset: 0', '--data-binary', `@${part2}`, location]);
    expect(wrong.status).toBe(409);
    expect(wrong.headers['upload-offset']).toBe(String(split));
    expect(JSON.parse(wrong.body.toString()).error.code).toBe('OFFSET_MISMATCH');

    // Second part (over 1 MiB: curl sends Expect: 100-continue).
    const p2 = await curl(['-X', 'PATCH', ...TUS_H, ...OCTET, '-H', `Upload-Offset: ${split}`, '--data-binary', `@${part2}`, location]);
    expect(p2.status).toBe(204);
    expect(p2.headers['upload-offset']).toBe(String(data.length));
    expect(p2.headers['upload-expires']).toBeUndefined();

    const head2 = await curl(['-I', ...TUS_H, location]);
    expect(head2.headers['upload-offset']).toBe(String(data.length));

    // GET download.
    const download = await curl([location]);
    expect(download.status).toBe(200);
    expect(download.headers['content-length']).toBe(String(data.length));
    expect(download.headers['content-disposition']).toContain('curl.bin');
    expect(download.body.length).toBe(data.length);
    expect(sha256(download.body)).toBe(sha256(data));
    expect(download.body.equals(data)).toBe(true);

    // Range download.
    const ranged = await curl(['-r', '100-199', location]);
    expect(ranged.status).toBe(206);
    expect(ranged.headers['content-range']).toBe(`bytes 100-199/${data.length}`);
    expect(ranged.body.equals(data.subarray(100, 200))).toBe(true);

    // Termination.
    const deleted = await curl(['-X', 'DELETE', ...TUS_H, location]);
    expect(deleted.status).toBe(204);
    const gone = await curl(['-I', ...TUS_H, location]);
    expect(gone.status).toBe(404);
  });

  it('creation-with-upload: POST with --data-binary creates and stores the first chunk', async () => {
    const data = randomBytes(300_000);
    const file = path.join(work, 'cwu.bin');
    await fsp.writeFile(file, data);
    const created = await curl(['-X', 'POST', ...TUS_H, ...OCTET, '-H', `Upload-Length: ${data.length}`, '--data-binary', `@${file}`, server.tusUrl]);
    expect(created.status).toBe(201);
    expect(created.headers['upload-offset']).toBe(String(data.length));
    const download = await curl([created.headers['location']]);
    expect(download.status).toBe(200);
    expect(download.body.equals(data)).toBe(true);
  });

  it('refuses a request without Tus-Resumable (412 with Tus-Version) and a PATCH with the wrong Content-Type (415)', async () => {
    const noVersion = await curl(['-X', 'POST', '-H', 'Upload-Length: 10', server.tusUrl]);
    expect(noVersion.status).toBe(412);
    expect(noVersion.headers['tus-version']).toBe('1.0.0');
    expect(JSON.parse(noVersion.body.toString()).error.code).toBe('TUS_RESUMABLE_UNSUPPORTED');

    const created = await curl(['-X', 'POST', ...TUS_H, '-H', 'Upload-Length: 10', server.tusUrl]);
    const badType = await curl(['-X', 'PATCH', ...TUS_H, '-H', 'Content-Type: application/octet-stream', '-H', 'Upload-Offset: 0', '--data-binary', 'abc', created.headers['location']]);
    expect(badType.status).toBe(415);
    expect(JSON.parse(badType.body.toString()).error.code).toBe('INVALID_CONTENT_TYPE');
    const head = await curl(['-I', ...TUS_H, created.headers['location']]);
    expect(head.headers['upload-offset']).toBe('0');
  });
});
