/**
 * The demo page in Chromium against the compiled server (`node server/dist/main.js`, processors
 * in-process, OpenAI faked): a 64 MiB video uploaded through the file input ends `done` with its
 * results on the page (a screenshot is kept in test/artifacts/), and an upload cut off mid-way by
 * the network, then the page reloaded, resumes from the stored URL with identical bytes.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, launchChromium, openPage, sdkBundle, sha256, startPageOrigin, type PageOrigin } from './support/browser.js';
import { makeVideo, spawnServer, startFakeOpenAI, tempDir, type FakeOpenAI, type SpawnedServer } from './support/services.js';

const MiB = 1024 * 1024;
let server: SpawnedServer;
let fake: FakeOpenAI;
let browser: Browser;
let origin: PageOrigin;
let bundle: Uint8Array;
let work: string;

/** An MP4 grown to `size` bytes by a trailing `free` box (valid MP4 that players and ffprobe skip). */
async function paddedVideo(file: string, size: number): Promise<Buffer> {
  const source = path.join(path.dirname(file), 'source.mp4');
  await makeVideo(source, { seconds: 4 });
  const video = await fsp.readFile(source);
  const pad = Buffer.alloc(size - video.length);
  pad.writeUInt32BE(pad.length, 0);
  pad.write('free', 4, 'latin1');
  const all = Buffer.concat([video, pad]);
  await fsp.writeFile(file, all);
  return all;
}

beforeAll(async () => {
  work = await tempDir('sdk-demo-');
  bundle = await sdkBundle();
  [fake, browser, origin] = await Promise.all([startFakeOpenAI(), launchChromium(), startPageOrigin(bundle)]);
  server = await spawnServer({ OPENAI_API_KEY: 'sk-dummy', OPENAI_BASE_URL: fake.baseURL, OPENAI_MODEL: 'gpt-demo', VIDEO_PREVIEW_FRAMES: '2', FFMPEG_THREADS: '1' });
  await fsp.mkdir(ARTIFACTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (server && server.child.exitCode === null) await server.terminate();
  await Promise.all([fake?.close(), origin?.close()]);
  if (server) await fsp.rm(server.dataDir, { recursive: true, force: true });
  if (work) await fsp.rm(work, { recursive: true, force: true });
});

const stored = (id: string) => fsp.readFile(path.join(server.dataDir, 'uploads', id));

describe('the demo page in Chromium', () => {
  it('serves the SDK bundle with a long immutable cache lifetime', async () => {
    const res = await fetch(`${server.url}/sdk/tus-edge.mjs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(bundle));
    const demo = await fetch(`${server.url}/demo/`);
    expect(demo.status).toBe(200);
    expect(await demo.text()).toContain('type="file"');
  });

  it('uploads a 64 MiB video through the file input and shows done with poster, rendition, transcript, summary, chapters and quiz', async () => {
    const file = path.join(work, 'lecture.mp4');
    const bytes = await paddedVideo(file, 64 * MiB);
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    try {
      const { page, log } = await openPage(context, `${server.url}/demo/`);
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
      const started = Date.now();
      await page.setInputFiles('input[type=file]', file);
      const card = page.locator('li.card').first();
      await page.waitForSelector('[data-upload-state="processing"], [data-upload-state="done"], [data-upload-state="failed"]', { timeout: 60_000 });
      const uploadSeconds = (Date.now() - started) / 1000;
      await page.waitForSelector('[data-upload-state="done"], [data-upload-state="failed"]', { timeout: 120_000 });
      expect(await card.getAttribute('data-upload-state'), `${log.join('\n')}\n${await card.innerText()}`).toBe('done');
      const id = (await card.getAttribute('data-upload-id'))!;
      expect(sha256(await stored(id))).toBe(sha256(bytes));

      // What a person sees: the player with the poster, the transcript, summary, chapters and quiz.
      const video = card.locator('video');
      expect(await video.getAttribute('src')).toMatch(new RegExp(`/api/uploads/${id}/results/video-\\d+p\\.mp4$`));
      expect(await video.getAttribute('poster')).toMatch(/poster\.jpg$/);
      await page.waitForFunction(() => (document.querySelector('li.card video') as HTMLVideoElement | null)?.readyState! >= 1, undefined, { timeout: 15_000 });
      expect(await card.locator('.summary').innerText()).not.toBe('');
      expect(await card.locator('.chapters li').count()).toBeGreaterThan(0);
      expect(await card.locator('.chapters .chapter-at').first().innerText()).toMatch(/^\d+:\d\d$/);
      expect(await card.locator('.quiz fieldset').count()).toBeGreaterThan(0);
      expect(await card.locator('.transcript p').count()).toBeGreaterThan(0);
      const frames = card.locator('.poster-row img');
      expect(await frames.count()).toBeGreaterThan(0);
      await page.waitForFunction(() => [...document.querySelectorAll('li.card img')].every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0));
      // Keyboard: the quiz answers are reachable and answerable without a mouse.
      await card.locator('.quiz input[type=radio]').first().focus();
      await page.keyboard.press('Space');
      expect(await card.locator('.quiz .feedback').first().innerText()).toMatch(/Right|Not quite/);
      await page.screenshot({ path: path.join(ARTIFACTS, 'demo-done.png'), fullPage: true });
      console.log(`demo page: 64 MiB uploaded in ${uploadSeconds.toFixed(1)} s (SDK defaults, 5 MiB chunks), processed in ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
    } finally {
      await context.close();
    }
  }, 240_000);

  it('resumes after a network cut and a page reload from the stored URL, with identical bytes (demo on another origin)', async () => {
    const file = path.join(work, 'cut.bin');
    const bytes = Buffer.alloc(24 * MiB);
    for (let i = 0; i < bytes.length; i += 4) bytes.writeUInt32LE((i * 2654435761) >>> 0, i);
    await fsp.writeFile(file, bytes);
    const context = await browser.newContext();
    try {
      const seen: { method: string; offset: string | null; phase: number }[] = [];
      let phase = 1;
      let patches = 0;
      // The network: every request to the tus server is seen; after two PATCHes it is cut.
      await context.route(`${server.tusUrl}/**`, async (route: Route) => {
        const req = route.request();
        if (req.method() !== 'OPTIONS') seen.push({ method: req.method(), offset: req.headers()['upload-offset'] ?? null, phase });
        if (phase === 1 && req.method() === 'PATCH' && ++patches > 2) return route.abort('internetdisconnected');
        return route.continue();
      });
      const url = `${origin.url}/demo/?endpoint=${encodeURIComponent(`${server.tusUrl}/`)}`;
      const { page, log } = await openPage(context, url);
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
      await page.setInputFiles('input[type=file]', file);
      // Wait until the cut has refused a PATCH, then reload as a user would.
      const deadline = Date.now() + 20_000;
      while (patches <= 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(patches, log.join('\n')).toBeGreaterThan(2);
      const created = seen.filter((r) => r.method === 'POST');
      expect(created).toHaveLength(1);
      phase = 2;
      await page.reload();
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
      await page.setInputFiles('input[type=file]', file);
      const card = page.locator('li.card').first();
      await page.waitForSelector('[data-upload-state="done"], [data-upload-state="failed"]', { timeout: 60_000 });
      expect(await card.getAttribute('data-upload-state'), `${log.join('\n')}\n${await card.innerText()}`).toBe('done');
      expect(await card.getAttribute('data-resumed')).toBe('true');
      const after = seen.filter((r) => r.phase === 2);
      expect(after.filter((r) => r.method === 'POST')).toHaveLength(0);
      expect(after[0]?.method).toBe('HEAD');
      const firstPatch = after.find((r) => r.method === 'PATCH')!;
      expect(Number(firstPatch.offset)).toBeGreaterThanOrEqual(2 * 5 * MiB);
      const id = (await card.getAttribute('data-upload-id'))!;
      expect(sha256(await stored(id))).toBe(sha256(bytes));
    } finally {
      await context.close();
    }
  }, 120_000);

  it('takes files dropped on the drop zone', async () => {
    const context = await browser.newContext();
    try {
      const { page, log } = await openPage(context, `${server.url}/demo/`);
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
      const zone = page.locator('#dropzone');
      const dataTransfer = await page.evaluateHandle(() => {
        const dt = new DataTransfer();
        dt.items.add(new File(['dropped text\n'.repeat(1000)], 'dropped.txt', { type: 'text/plain' }));
        return dt;
      });
      await zone.dispatchEvent('dragover', { dataTransfer });
      expect(await zone.getAttribute('class')).toContain('over');
      await zone.dispatchEvent('drop', { dataTransfer });
      const card = page.locator('li.card').first();
      await page.waitForSelector('[data-upload-state="done"], [data-upload-state="failed"]', { timeout: 60_000 });
      expect(await card.getAttribute('data-upload-state'), `${log.join('\n')}\n${await card.innerText()}`).toBe('done');
      expect(await card.locator('.file-name').innerText()).toBe('dropped.txt');
    } finally {
      await context.close();
    }
  });

  it('pauses and resumes from the keyboard: no PATCH while paused, then done with identical bytes', async () => {
    const file = path.join(work, 'pause.bin');
    const bytes = Buffer.alloc(12 * MiB, 0x5a);
    bytes.write('pause and resume', 0);
    await fsp.writeFile(file, bytes);
    const context = await browser.newContext();
    try {
      const patches: number[] = [];
      // A slow link: each PATCH answer is held back 400 ms, so there is time to pause.
      await context.route(`${server.tusUrl}/**`, async (route) => {
        if (route.request().method() !== 'PATCH') return route.continue();
        patches.push(Date.now());
        const response = await route.fetch();
        await new Promise((r) => setTimeout(r, 400));
        await route.fulfill({ response });
      });
      const { page, log } = await openPage(context, `${server.url}/demo/`);
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
      await page.setInputFiles('input[type=file]', file);
      const card = page.locator('li.card').first();
      await page.waitForFunction(() => Number((document.querySelector('li.card progress') as HTMLProgressElement | null)?.value) > 0);
      const pause = card.getByRole('button', { name: 'Pause' });
      await pause.focus();
      await page.keyboard.press('Enter');
      await page.waitForSelector('[data-upload-state="paused"]');
      expect(await card.locator('.badge').innerText()).toBe('Paused');
      await page.screenshot({ path: path.join(ARTIFACTS, 'demo-paused.png') });
      await new Promise((r) => setTimeout(r, 300)); // an aborted request may still be on its way
      const whilePaused = patches.length;
      await new Promise((r) => setTimeout(r, 1200));
      expect(patches.length, 'no PATCH while paused').toBe(whilePaused);
      await card.getByRole('button', { name: 'Resume' }).press('Enter');
      await page.waitForSelector('[data-upload-state="done"], [data-upload-state="failed"]', { timeout: 60_000 });
      expect(await card.getAttribute('data-upload-state'), `${log.join('\n')}\n${await card.innerText()}`).toBe('done');
      expect(patches.length).toBeGreaterThan(whilePaused);
      const id = (await card.getAttribute('data-upload-id'))!;
      expect(sha256(await stored(id))).toBe(sha256(bytes));
    } finally {
      await context.close();
    }
  }, 120_000);
});
