/**
 * The acceptance contract, exactly as written, through `npm start`:
 * `AUTH_MODE=jwt AUTH_JWT_SECRET=<s> SIGNING_SECRET=<k> PORT=<p> DATA_DIR=<d> npm start`.
 */
import { spawn } from 'node:child_process';
import fsp from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, REPO_ROOT, tempDir } from '../harness.js';
import { documentedApi, type DocumentedApi } from '../openapi.js';
import { bearer, TEST_JWT_SECRET, TEST_SIGNING_SECRET, TUS, userToken } from '@tus-edge/testkit';

const OCTETS = { ...TUS, 'Content-Type': 'application/offset+octet-stream' };

describe('acceptance contract: AUTH_MODE=jwt AUTH_JWT_SECRET=<s> SIGNING_SECRET=<k> PORT=<p> DATA_DIR=<d> npm start', () => {
  let base = '';
  let dataDir = '';
  let stop: () => Promise<void> = async () => undefined;
  let alice = '';
  let bob = '';
  let aliceExpired = '';
  let api: DocumentedApi;

  beforeAll(async () => {
    const port = await freePort();
    dataDir = await tempDir();
    const child = spawn('npm', ['start', '--silent'], {
      cwd: REPO_ROOT,
      env: { ...process.env, AUTH_MODE: 'jwt', AUTH_JWT_SECRET: TEST_JWT_SECRET, SIGNING_SECRET: TEST_SIGNING_SECRET, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    stop = async () => {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
      await exited;
    };
    base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 45_000;
    let ready = false;
    while (!ready && Date.now() < deadline && child.exitCode === null) {
      ready = await fetch(`${base}/readyz`).then((r) => r.status === 200, () => false);
      if (!ready) await new Promise((r) => setTimeout(r, 100));
    }
    if (!ready) throw new Error(`server not ready:\n${out}`);
    api = await documentedApi(base);
    [alice, bob, aliceExpired] = await Promise.all([userToken('alice'), userToken('bob'), userToken('alice', { expiresIn: -120 })]);
  });
  afterAll(async () => {
    await stop();
    // npm exits before the server it started has drained: wait until nothing answers, and let rm retry
    // while the embedded processors may still be writing their status.
    for (let i = 0; i < 150 && (await fetch(`${base}/healthz`).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 100));
    await fsp.rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  const create = (headers: Record<string, string>, length = 5) =>
    api.fetch(`${base}/files/`, { method: 'POST', headers: { ...TUS, 'Upload-Length': String(length), ...headers } });

  it('a POST without a token → 401 with WWW-Authenticate; with an HS256 token (sub) → 201', async () => {
    const anon = await create({});
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
    expect((await create(bearer(alice))).status).toBe(201);
  });

  it("every tus method and GET /api/uploads/:id with another subject's token → 404, with an expired token → 401", async () => {
    const res = await create(bearer(alice));
    const url = res.headers.get('location')!;
    expect((await api.fetch(url, { method: 'PATCH', headers: { ...OCTETS, 'Upload-Offset': '0', ...bearer(alice) }, body: 'hello' })).status).toBe(204);
    const id = url.split('/').pop()!;
    const requests: Array<[string, string, RequestInit]> = [
      ['HEAD', url, { method: 'HEAD', headers: TUS }],
      ['PATCH', url, { method: 'PATCH', headers: { ...OCTETS, 'Upload-Offset': '5' }, body: 'x' }],
      ['GET', url, { method: 'GET' }],
      ['DELETE', url, { method: 'DELETE', headers: TUS }],
      ['GET /api/uploads/:id', `${base}/api/uploads/${id}`, { method: 'GET' }],
    ];
    for (const [name, target, init] of requests) {
      const asBob = await api.fetch(target, { ...init, headers: { ...(init.headers as Record<string, string>), ...bearer(bob) } });
      expect(asBob.status, `${name} as another subject`).toBe(404);
      const expired = await api.fetch(target, { ...init, headers: { ...(init.headers as Record<string, string>), ...bearer(aliceExpired) } });
      expect(expired.status, `${name} with an expired token`).toBe(401);
      expect(expired.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    }
    // Nothing of that touched it: the owner still sees every byte.
    const head = await api.fetch(url, { method: 'HEAD', headers: { ...TUS, ...bearer(alice) } });
    expect(head.status).toBe(200);
    expect(head.headers.get('upload-offset')).toBe('5');
  });

  it('POST /api/upload-tokens {"maxSize"} → 201 {token}; that token alone creates an upload up to maxSize, larger → 413', async () => {
    const minted = await api.fetch(`${base}/api/upload-tokens`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', ...bearer(alice) }, body: JSON.stringify({ maxSize: 8 }),
    });
    expect(minted.status).toBe(201);
    const { token } = (await minted.json()) as { token: string };
    expect(typeof token).toBe('string');
    const ok = await create(bearer(token), 8);
    expect(ok.status).toBe(201);
    const url = ok.headers.get('location')!;
    expect((await api.fetch(url, { method: 'PATCH', headers: { ...OCTETS, 'Upload-Offset': '0', ...bearer(token) }, body: '12345678' })).status).toBe(204);
    const tooLarge = await create(bearer(token), 9);
    expect(tooLarge.status).toBe(413);
    expect(((await tooLarge.json()) as { error: { code: string } }).error.code).toBe('UPLOAD_TOKEN_SIZE_EXCEEDED');
    // The upload is the owner's: the user token sees it too.
    expect((await api.fetch(url, { method: 'HEAD', headers: { ...TUS, ...bearer(alice) } })).headers.get('upload-offset')).toBe('8');
  });

  it('POST /api/uploads/:id/signed-url → {url} downloadable without a token, as an attachment that cannot run', async () => {
    const res = await api.fetch(`${base}/files/`, {
      method: 'POST',
      headers: { ...OCTETS, 'Upload-Length': '25', 'Upload-Metadata': `filename ${Buffer.from('x.html').toString('base64')},filetype ${Buffer.from('text/html').toString('base64')}`, ...bearer(alice) },
      body: '<script>alert(1)</script>',
    });
    expect(res.status).toBe(201);
    const id = res.headers.get('location')!.split('/').pop()!;
    const signed = await api.fetch(`${base}/api/uploads/${id}/signed-url`, { method: 'POST', headers: bearer(alice) });
    expect(signed.status).toBe(200);
    const { url } = (await signed.json()) as { url: string };
    const got = await api.fetch(url);
    expect(got.status).toBe(200);
    expect(await got.text()).toBe('<script>alert(1)</script>');
    expect(got.headers.get('content-disposition')).toMatch(/^attachment/);
    expect(got.headers.get('content-security-policy')).toMatch(/sandbox/);
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    expect(got.headers.get('content-type')).not.toMatch(/html/);
    const tampered = new URL(url);
    tampered.searchParams.set('expires', String(Number(tampered.searchParams.get('expires')) + 1));
    expect((await api.fetch(tampered)).status).toBe(403);
    expect((await api.fetch(`${base}/files/${id}`)).status).toBe(401);
    // Bob cannot mint a URL for it.
    expect((await api.fetch(`${base}/api/uploads/${id}/signed-url`, { method: 'POST', headers: bearer(bob) })).status).toBe(404);
  });
});
