/**
 * End-to-end upload with Debian's python3-tuspy (module `tusclient`), run by the system interpreter
 * /usr/bin/python3. The package is a test dependency: when it is missing the test fails and says how
 * to install it.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256, TUS } from '@tus-edge/testkit';
import { startTestServer, tempDir, type TestServer } from '../harness.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const TUSCLIENT_DIR = '/usr/lib/python3/dist-packages/tusclient';

/**
 * Uploads argv[2] to the endpoint argv[1] in chunks of argv[3] bytes: first up to argv[4] bytes with
 * one uploader, then resumes with a second uploader given only the URL (tuspy HEADs for the offset).
 * Prints one JSON line.
 */
const SCRIPT = String.raw`
import json, sys
from tusclient import client

endpoint, file_path, chunk_size, stop_at = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
tus = client.TusClient(endpoint)

first = tus.uploader(file_path=file_path, chunk_size=chunk_size, metadata={'filename': 'tuspy.bin'})
offsets = []
while first.offset < stop_at:
    first.upload_chunk()
    offsets.append(first.offset)

second = tus.uploader(file_path=file_path, url=first.url, chunk_size=chunk_size)
resumed_at = second.offset
second.upload()
print(json.dumps({'url': first.url, 'offsets': offsets, 'resumed_at': resumed_at, 'final': second.offset}))
`;

describe('python3-tuspy (tusclient) against the server', () => {
  let server: TestServer | undefined;
  let work: string | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    if (work) await fsp.rm(work, { recursive: true, force: true });
    work = undefined;
  });

  it('uploads a file in chunks smaller than the file, resumes by URL, and the stored sha256 matches', async () => {
    expect(fs.existsSync(PYTHON), `${PYTHON} is missing: apt-get install python3 python3-tuspy`).toBe(true);
    expect(
      fs.existsSync(TUSCLIENT_DIR),
      `${TUSCLIENT_DIR} is missing: the tuspy client is a test dependency, run "apt-get install python3-tuspy"`,
    ).toBe(true);

    server = await startTestServer();
    work = await tempDir('tuspy-');
    const data = randomBytes(1024 * 1024 + 4321);
    const chunk = 256 * 1024;
    const file = path.join(work, 'source.bin');
    const script = path.join(work, 'upload.py');
    await fsp.writeFile(file, data);
    await fsp.writeFile(script, SCRIPT);

    const env: NodeJS.ProcessEnv = { PATH: '/usr/bin:/bin', HOME: work, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' };
    const { stdout, stderr } = await run(PYTHON, [script, server.tusUrl, file, String(chunk), String(2 * chunk)], {
      env,
      timeout: 20_000,
    }).catch((err: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(`tuspy upload failed: ${err.message}\nstdout: ${err.stdout}\nstderr: ${err.stderr}`);
    });
    const lines = stdout.trim().split('\n');
    const result = JSON.parse(lines[lines.length - 1]) as { url: string; offsets: number[]; resumed_at: number; final: number };
    expect(result.url, stderr).toMatch(new RegExp(`^${server.tusUrl}/[A-Za-z0-9_-]+$`));
    expect(result.offsets).toEqual([chunk, 2 * chunk]);
    expect(result.resumed_at).toBe(2 * chunk);
    expect(result.final).toBe(data.length);

    const id = new URL(result.url).pathname.split('/').pop()!;
    const stored = await fsp.readFile(path.join(server.dataDir, 'uploads', id));
    expect(stored.length).toBe(data.length);
    expect(sha256(stored)).toBe(sha256(data));

    const head = await fetch(result.url, { method: 'HEAD', headers: TUS });
    expect(head.headers.get('upload-offset')).toBe(String(data.length));
    expect(head.headers.get('upload-metadata')).toBe(`filename ${Buffer.from('tuspy.bin').toString('base64')}`);
  });
});
