/**
 * The SDK's token callback in Chromium against the real server with auth on (`AUTH_MODE=jwt`), the
 * page on another origin: the page's callback plays the application's backend, minting short-lived
 * upload tokens with `POST /api/upload-tokens` (a user token). An upload keeps the token it started
 * with even after it expires (the server lets it resume and read its own upload), a new upload gets a
 * fresh token, and without a token the server answers 401 with its catalogue code.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_ENV, userToken } from '@tus-edge/testkit';
import { launchChromium, openPage, putTestPage, sdkBundle, sha256, startPageOrigin, type PageOrigin } from './support/browser.js';
import { spawnServer, type SpawnedServer } from './support/services.js';

let server: SpawnedServer;
let browser: Browser;
let origin: PageOrigin;

beforeAll(async () => {
  [browser, origin, server] = await Promise.all([launchChromium(), startPageOrigin(await sdkBundle()), spawnServer({ ...AUTH_ENV })]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  if (server && server.child.exitCode === null) await server.terminate();
  await origin?.close();
  if (server) await fsp.rm(server.dataDir, { recursive: true, force: true });
});

describe('the SDK token callback against the server with AUTH_MODE=jwt', () => {
  it('uploads with upload tokens minted on demand: an upload keeps its token past expiry, a new upload gets a new one', async () => {
    const user = await userToken('alice');
    const context = await browser.newContext();
    try {
      const { page, log } = await openPage(context, await putTestPage(origin, 'clients'));
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
      // A slow link (PATCH answers held back 150 ms), so the upload outlives a 2 s token.
      await page.route(`${server.tusUrl}/**`, async (route) => {
        if (route.request().method() !== 'PATCH') return route.continue();
        const response = await route.fetch();
        await new Promise((res) => setTimeout(res, 150));
        await route.fulfill({ response });
      });
      const seen: string[] = [];
      page.on('request', (r) => {
        if (r.url().startsWith(server.tusUrl) && r.method() === 'PATCH') seen.push(r.headers().authorization ?? '');
      });
      const r = await page.evaluate(async ({ api, endpoint, user }) => {
        const w = window as any;
        const minted: string[] = [];
        const client = w.tusEdge.createClient({
          endpoint,
          chunkSize: 256 * 1024,
          // The application's backend: here the page itself, holding a user token.
          token: async () => {
            const res = await fetch(`${api}/api/upload-tokens`, {
              method: 'POST',
              headers: { Authorization: `Bearer ${user}`, 'Content-Type': 'application/json' },
              body: JSON.stringify({ expiresIn: 2 }),
            });
            if (res.status !== 201) throw new Error(`upload-tokens: ${res.status} ${await res.text()}`);
            const answer = await res.json();
            minted.push(answer.token);
            return { token: answer.token, expiresAt: answer.expiresAt };
          },
        });
        const file: File = w.makeFile('authorised.bin', 6 * 1024 * 1024, 71);
        const started = performance.now();
        const { id } = await client.upload(file).done;
        const seconds = (performance.now() - started) / 1000;
        const status = await client.watchProcessing(id); // with the upload's own, expired token
        const info = await client.getUpload(id);
        await client.upload(w.makeFile('second.bin', 1024, 72)).done; // a new upload: a fresh token
        const refused = await w.tusEdge.createClient({ endpoint }).upload(w.makeFile('anonymous.bin', 10, 1)).done.then(() => null, (e: any) => ({ code: e.code, status: e.status }));
        return { id, minted: minted.length, seconds, state: status.state, finished: info.state, sha: await w.sha256Hex(file), refused };
      }, { api: server.url, endpoint: `${server.tusUrl}/`, user });
      expect(r.state, log.join('\n')).toBe('done');
      expect(r.finished).toBe('finished');
      expect(sha256(await fsp.readFile(path.join(server.dataDir, 'uploads', r.id)))).toBe(r.sha);
      // Tokens live 2 s: an upload that took longer needed fresh ones, fetched before expiry.
      // The first upload outlived its 2 s token and kept it; the second one needed a new token.
      expect(r.seconds).toBeGreaterThan(3);
      expect(r.minted).toBe(2);
      expect(new Set(seen).size).toBe(2);
      expect(seen.every((h) => h.startsWith('Bearer '))).toBe(true);
      expect(r.refused).toMatchObject({ status: 401, code: 'AUTH_REQUIRED' });
    } finally {
      await context.close();
    }
  });
});
