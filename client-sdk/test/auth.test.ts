/**
 * Tokens in Chromium, through an auth proxy that speaks the server's upload-token flow (AUTH_MODE=jwt)
 * (`POST /api/upload-tokens`, `Authorization: Bearer`, 401) in front of the compiled server, the page
 * on a third origin: the demo page with a token pasted in uploads and shows its results (read with the
 * token), and with the SDK's token callback an upload keeps its token until the server refuses it
 * (revoked, expired), then carries on with a new one, for the upload and the processing stream.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthProxy } from './support/auth-proxy.js';
import { launchChromium, openPage, putTestPage, sdkBundle, sha256, startPageOrigin, type PageOrigin } from './support/browser.js';
import { makePdf, spawnServer, tempDir, type SpawnedServer } from './support/services.js';

let server: SpawnedServer;
let browser: Browser;
let origin: PageOrigin;
let work: string;

beforeAll(async () => {
  work = await tempDir('sdk-auth-');
  [browser, origin, server] = await Promise.all([launchChromium(), startPageOrigin(await sdkBundle()), spawnServer()]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  if (server && server.child.exitCode === null) await server.terminate();
  await origin?.close();
  if (server) await fsp.rm(server.dataDir, { recursive: true, force: true });
  if (work) await fsp.rm(work, { recursive: true, force: true });
});

describe('upload tokens in Chromium (auth proxy speaking the upload-token flow)', () => {
  it('the demo page with a token pasted in uploads a PDF and shows its text, every request authorised', async () => {
    const proxy = await startAuthProxy(server.url, 10 * 60_000);
    const context = await browser.newContext();
    try {
      const token = ((await (await fetch(`${proxy.url}/api/upload-tokens`, { method: 'POST' })).json()) as { token: string }).token;
      const file = path.join(work, 'notes.pdf');
      const pdf = makePdf(['Page one: tokens.', 'Page two: refresh before expiry.']);
      await fsp.writeFile(file, pdf);
      const { page, log } = await openPage(context, `${origin.url}/demo/?endpoint=${encodeURIComponent(`${proxy.url}/files/`)}`);
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
      await page.getByText('Connection and upload token').click();
      await page.getByLabel('Upload token').fill(token);
      await page.setInputFiles('input[type=file]', file);
      const card = page.locator('li.card').first();
      await page.waitForSelector('[data-upload-state="done"], [data-upload-state="failed"]', { timeout: 60_000 });
      expect(await card.getAttribute('data-upload-state'), `${log.join('\n')}\n${await card.innerText()}`).toBe('done');
      expect(await card.locator('.transcript p').allInnerTexts()).toEqual(['page 1Page one: tokens.', 'page 2Page two: refresh before expiry.']);
      expect(proxy.stats.refused).toBe(0);
      const id = (await card.getAttribute('data-upload-id'))!;
      expect(sha256(await fsp.readFile(path.join(server.dataDir, 'uploads', id)))).toBe(sha256(pdf));
    } finally {
      await context.close();
      await proxy.close();
    }
  });

  it('the SDK token callback: an upload keeps its token; a revoked or expired one is replaced after one 401 each; processing is read with it', async () => {
    const proxy = await startAuthProxy(server.url, 3000);
    const context = await browser.newContext();
    try {
      proxy.revokeAt(3);
      const { page, log } = await openPage(context, await putTestPage(origin, 'clients'));
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
      const r = await page.evaluate(async (proxyUrl) => {
        const w = window as any;
        let calls = 0;
        const client = w.tusEdge.createClient({
          endpoint: `${proxyUrl}/files/`,
          chunkSize: 256 * 1024,
          token: async () => {
            calls++;
            const res = await fetch(`${proxyUrl}/api/upload-tokens`, { method: 'POST' });
            return (await res.json()).token as string;
          },
        });
        const file: File = w.makeFile('tokens.bin', 6 * 1024 * 1024, 61);
        const { id } = await client.upload(file).done;
        const status = await client.watchProcessing(id);
        return { id, calls, state: status.state, sha: await w.sha256Hex(file) };
      }, proxy.url);
      expect(r.state, log.join('\n')).toBe('done');
      expect(proxy.stats.patches).toBeGreaterThanOrEqual(24); // 6 s at 250 ms each: two token lifetimes
      // Token 1 is revoked at the third PATCH; the next ones live 3 s, less than the rest of the upload:
      // every refusal costs one 401 and one new token, never more.
      expect(proxy.stats.refused).toBeGreaterThanOrEqual(2);
      expect(r.calls).toBe(proxy.stats.refused + 1);
      expect(sha256(await fsp.readFile(path.join(server.dataDir, 'uploads', r.id)))).toBe(r.sha);
    } finally {
      await context.close();
      await proxy.close();
    }
  });
});
