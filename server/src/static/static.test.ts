import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createApiApp, type ApiApp } from '../http/openapi.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountStatic, sdkPaths } from './static.js';

let dir: string;
let app: ApiApp;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'static-'));
  await fs.mkdir(path.join(dir, 'demo'));
  await fs.writeFile(path.join(dir, 'demo', 'index.html'), '<input type="file">');
  await fs.writeFile(path.join(dir, 'demo', 'demo.js'), 'export {}');
  await fs.writeFile(path.join(dir, 'secret.txt'), 'no');
  app = createApiApp();
  mountStatic(app, '/uploads', { bundle: path.join(dir, 'tus-edge.mjs'), demoDir: path.join(dir, 'demo') });
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

describe('static: the SDK bundle and the demo page', () => {
  it('the bundle: 404 naming the build until it exists, then immutable for a year with an ETag', async () => {
    const before = await app.request('/sdk/tus-edge.mjs');
    expect(before.status).toBe(404);
    expect(await before.text()).toContain('npm run build');
    await fs.writeFile(path.join(dir, 'tus-edge.mjs'), 'export const x = 1;');
    const res = await app.request('/sdk/tus-edge.mjs');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await res.text()).toBe('export const x = 1;');
    const again = await app.request('/sdk/tus-edge.mjs', { headers: { 'If-None-Match': res.headers.get('etag')! } });
    expect(again.status).toBe(304);
    const head = await app.request('/sdk/tus-edge.mjs', { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe('19');
  });

  it('the demo: index at /demo/, revalidated; config.json names the tus path; nothing outside the folder', async () => {
    expect((await app.request('/demo')).headers.get('location')).toBe('/demo/');
    const index = await app.request('/demo/');
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(await index.text()).toContain('type="file"');
    expect(await (await app.request('/demo/config.json')).json()).toEqual({ endpoint: '/uploads/' });
    expect((await app.request('/demo/demo.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    for (const bad of ['/demo/../secret.txt', '/demo/%2e%2e/secret.txt', '/demo/nope.html']) expect((await app.request(bad)).status, bad).toBe(404);
  });

  it('finds the installed @tus-edge/client-sdk package', async () => {
    const paths = sdkPaths();
    await expect(fs.stat(path.join(paths.demoDir, 'index.html'))).resolves.toBeTruthy();
    expect(paths.bundle.endsWith(path.join('client-sdk', 'dist', 'tus-edge.mjs'))).toBe(true);
  });
});
