/**
 * The operator page `/admin/` in Chromium (Debian's, driven by playwright-core) against the real
 * server (embedded: processors in process, the directory queue, analytics in the SQLite catalogue):
 * it asks for the token and refuses a wrong one, shows the overview, the dead letter of a job that
 * failed (a corrupt PDF) with its reason, the processing-time charts drawn from the analytics API, and
 * its Retry button puts the job back, which fails again visibly (a new failure, retryable again).
 * A screenshot is written to `$ADMIN_SCREENSHOT_DIR` (default: a temp dir; its path is logged).
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TUS, waitFor } from '@tus-edge/testkit';
import { startTestServer, type TestServer } from '../../harness.js';

const OPERATOR_TOKEN = 'operator-token-0123456789abcdefghijkl';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];

let server: TestServer;
let browser: Browser;
let page: Page;
const log: string[] = [];

async function upload(body: Buffer, name: string, type: string): Promise<string> {
  const meta = `filename ${Buffer.from(name).toString('base64')},filetype ${Buffer.from(type).toString('base64')}`;
  const res = await fetch(server.tusUrl, { method: 'POST', headers: { ...TUS, 'Upload-Length': String(body.length), 'Upload-Metadata': meta, 'Content-Type': 'application/offset+octet-stream' }, body });
  expect(res.status).toBe(201);
  return res.headers.get('location')!.split('/').pop()!;
}

beforeAll(async () => {
  [server, browser] = await Promise.all([
    startTestServer({ OPERATOR_TOKEN }),
    chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS, timeout: 30_000 }),
  ]);
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  page = await context.newPage();
  page.on('console', (m) => log.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => log.push(`[pageerror] ${e.message}`));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the operator page in Chromium', () => {
  let uploadId = '';

  it('is served open with a strict content security policy; its data is not', async () => {
    const res = await fetch(`${server.url}/admin/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await res.text()).toContain('id="dead-letters"');
    expect((await fetch(`${server.url}/admin/charts.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${server.url}/api/admin/overview`)).status).toBe(403);
  });

  it('asks for the token, refuses a wrong one, then shows the failed job and the charts', async () => {
    // A job that fails for good (documents: a corrupt PDF), and finished jobs for the charts.
    uploadId = await upload(Buffer.from('%PDF-1.4\nnot really a pdf\n%%EOF\n'), 'broken.pdf', 'application/pdf');
    await upload(Buffer.from('# Notes\n\nA short text the processors read.\n'), 'notes.md', 'text/markdown');

    await page.goto(`${server.url}/admin/?refresh=1000`);
    await page.waitForSelector('body[data-state="login"]');
    await page.fill('#token', 'not-the-operator-token-0123456789abcdef');
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#login-error:text("not the operator token")');

    await page.fill('#token', OPERATOR_TOKEN);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('body[data-state="ready"]');
    expect(await page.evaluate("sessionStorage.getItem('tus-edge.operator-token')")).toBe(OPERATOR_TOKEN);

    const row = page.locator(`#dead-letters tr[data-job-id$=":documents"]`).first();
    await row.waitFor({ timeout: 30_000 });
    expect(await row.innerText()).toContain('CORRUPT_FILE');
    expect(await row.innerText()).toContain(uploadId);
    await page.locator('#failures li', { hasText: 'not a readable PDF' }).first().waitFor();
    await page.locator('#queues tr[data-kind="documents"][data-lane="normal"]').waitFor();
    expect(await page.locator('#nodes tbody tr').count()).toBeGreaterThan(0);

    // Charts come from GET /api/analytics/processing?interval=1h, read once a minute: reload for fresh data.
    await waitFor(async () => {
      const res = await fetch(`${server.url}/api/analytics/processing?groupBy=kind&interval=1h`, { headers: { Authorization: `Bearer ${OPERATOR_TOKEN}` } });
      const body = (await res.json()) as { groups: Array<{ key: string; failed: number }> };
      return body.groups.some((g) => g.key === 'documents' && g.failed > 0);
    }, 30_000, 'the failed attempt in the analytics');
    await page.reload();
    await page.waitForSelector('#charts[data-state="drawn"]', { timeout: 15_000 });
    const kinds = await page.locator('svg.chart').evaluateAll((svgs) => svgs.map((s) => s.getAttribute('data-kind')));
    expect(kinds).toContain('documents');
    expect(kinds).toContain('fingerprint');
    expect(await page.locator('svg.chart[data-kind="fingerprint"] circle.dot.p50').count()).toBeGreaterThan(0);
    expect(await page.locator('svg.chart[data-kind="documents"] rect.bar.failed').count()).toBeGreaterThan(0);
    expect(log.filter((l) => l.startsWith('[pageerror]'))).toEqual([]);
  });

  it('retries a dead letter from its button; the job runs again and fails again visibly', async () => {
    const row = page.locator(`#dead-letters tr[data-job-id$=":documents"]`).first();
    const id = (await row.getAttribute('data-dead-letter-id'))!;
    const failedAt = (await row.getAttribute('data-failed-at'))!;
    expect(await row.getAttribute('data-retried')).toBe('false');
    await row.locator('button.retry').click();
    await page.waitForSelector('#message:text("is back on its queue")');
    // The corrupt PDF fails again: a new failure of the same job, not marked retried, retryable again.
    const again = page.locator(`#dead-letters tr[data-dead-letter-id="${id}"][data-retried="false"]:not([data-failed-at="${failedAt}"])`);
    await again.waitFor({ timeout: 30_000 });
    expect(await again.locator('button.retry').isEnabled()).toBe(true);
    const res = await fetch(`${server.url}/api/uploads/${uploadId}`);
    const status = (await res.json()) as { processing: { jobs: Record<string, { state: string; attempts: number }> } };
    expect(status.processing.jobs.documents).toMatchObject({ state: 'failed', attempts: 1 });

    // One more full refresh, so the overview and the table in the picture are of the same moment.
    const refreshed = await page.getAttribute('body', 'data-refreshed-at');
    type Dom = { document: { body: { dataset: Record<string, string | undefined> } } };
    await page.waitForFunction((before) => (globalThis as unknown as Dom).document.body.dataset.refreshedAt !== before, refreshed);
    await page.locator('#failures li', { hasNotText: 'retried' }).first().waitFor();
    const dir = process.env.ADMIN_SCREENSHOT_DIR ?? (await fsp.mkdtemp(path.join(os.tmpdir(), 'tus-edge-admin-')));
    await fsp.mkdir(dir, { recursive: true });
    const file = path.join(dir, 'admin-page.png');
    await page.screenshot({ path: file, fullPage: true });
    console.log(`admin page screenshot: ${file}`);
    expect((await fsp.stat(file)).size).toBeGreaterThan(10_000);
  });
});
