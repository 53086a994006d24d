/**
 * `/api/docs` in a real browser (Debian's Chromium driven by playwright-core): the reference page
 * renders the operations of `/api/openapi.json`, with authentication on and no token (the page and
 * the document are open), and no request leaves this server (its script and style come from the
 * installed npm package, not a CDN). Every request to another host is recorded and refused.
 */
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_ENV } from '@tus-edge/testkit';
import { startTestServer, type TestServer } from '../harness.js';

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];

describe('/api/docs in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    server = await startTestServer({ ...AUTH_ENV });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS, timeout: 30_000 });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('renders the operations list with no outside request', async () => {
    const context = await browser.newContext();
    const outside: string[] = [];
    const origin = new URL(server.url).origin;
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${origin}/`) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      outside.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/api/docs`);
    // Swagger UI renders one block per operation once it has read the document.
    await page.locator('.opblock').first().waitFor({ timeout: 30_000 });
    const operations = await page.locator('.opblock-summary-path').allTextContents();
    expect(operations.map((t) => t.replace(/\u200b/g, ''))).toEqual(expect.arrayContaining(['/api/uploads/{id}', '/api/files', '/files/{id}']));
    expect(operations.length).toBeGreaterThanOrEqual(20);
    expect(await page.locator('.opblock-tag').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('tus'), expect.stringContaining('files')]));
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
