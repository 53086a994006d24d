/**
 * Interop in Chromium, every page on another origin than the compiled server (so the browser checks
 * CORS itself): Uppy (core + tus plugin + Dashboard) and plain tus-js-client upload, resume after a
 * page reload, and upload in parallel (concatenation); the SDK honours a Retry-After that the browser
 * can only read because the server exposes it; and 64 MiB from the same page with tus-js-client and
 * with the SDK, timed.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchChromium, openPage, putTestPage, sdkBundle, sha256, startPageOrigin, type PageOrigin } from './support/browser.js';
import { spawnServer, tempDir, type SpawnedServer } from './support/services.js';

const MiB = 1024 * 1024;
let server: SpawnedServer;
let browser: Browser;
let origin: PageOrigin;
let clientsPage: string;
let uppyPage: string;
let work: string;
let context: BrowserContext;
let log: string[] = [];

beforeAll(async () => {
  work = await tempDir('sdk-interop-');
  const bundle = await sdkBundle();
  [browser, origin, server] = await Promise.all([launchChromium(), startPageOrigin(bundle), spawnServer()]);
  [clientsPage, uppyPage] = await Promise.all([putTestPage(origin, 'clients'), putTestPage(origin, 'uppy')]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  if (server && server.child.exitCode === null) await server.terminate();
  await origin?.close();
  if (server) await fsp.rm(server.dataDir, { recursive: true, force: true });
  if (work) await fsp.rm(work, { recursive: true, force: true });
});
beforeEach(async () => {
  context = await browser.newContext();
});
afterEach(async () => {
  await context.close();
});

interface Seen { method: string; url: string; offset?: string; concat?: string; phase: number; at: number }
/** Every request the page sends to the tus server (CORS preflights aside). */
function watchRequests(page: Page, phase: { n: number }): Seen[] {
  const seen: Seen[] = [];
  page.on('request', (r: Request) => {
    if (!r.url().startsWith(server.tusUrl) || r.method() === 'OPTIONS') return;
    const h = r.headers();
    seen.push({ method: r.method(), url: r.url(), offset: h['upload-offset'], concat: h['upload-concat'], phase: phase.n, at: Date.now() });
  });
  return seen;
}

async function open(url: string): Promise<Page> {
  const opened = await openPage(context, url);
  log = opened.log;
  await opened.page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  return opened.page;
}

const download = async (url: string) => sha256(new Uint8Array(await (await fetch(url)).arrayBuffer()));

/** In the page: uploads makeFile(name, size, seed) with plain tus-js-client; resolves with its URL, time and sha256. */
function tusUpload(page: Page, args: { name: string; size: number; seed: number; options: Record<string, unknown>; resume?: boolean; stopAfter?: number }) {
  return page.evaluate(async ({ endpoint, name, size, seed, options, resume, stopAfter }) => {
    const w = window as any;
    const file: File = w.makeFile(name, size, seed);
    const started = performance.now();
    const url = await new Promise<string | null>((resolve, reject) => {
      const upload = new w.tus.Upload(file, {
        endpoint, ...options,
        onError: reject,
        onSuccess: () => resolve(upload.url),
        onChunkComplete: (_chunk: number, accepted: number) => {
          if (stopAfter !== undefined && accepted >= stopAfter) upload.abort().then(() => resolve(null));
        },
      });
      const go = async () => {
        if (resume) {
          const previous = await upload.findPreviousUploads();
          if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
        }
        upload.start();
      };
      go().catch(reject);
    });
    return { url, ms: performance.now() - started, sha: await w.sha256Hex(file) };
  }, { endpoint: `${server.tusUrl}/`, ...args });
}

describe('plain tus-js-client in Chromium', () => {
  it('uploads in chunks across origins; the bytes are identical', async () => {
    const page = await open(clientsPage);
    const r = await tusUpload(page, { name: 'plain.bin', size: 3 * MiB + 77, seed: 11, options: { chunkSize: MiB } });
    expect(r.url, log.join('\n')).toMatch(new RegExp(`^${server.tusUrl}/`));
    expect(await download(r.url!)).toBe(r.sha);
  });

  it('resumes after a page reload from the URL it stored (findPreviousUploads)', async () => {
    const phase = { n: 1 };
    const page = await open(clientsPage);
    const seen = watchRequests(page, phase);
    const first = await tusUpload(page, { name: 'resume.bin', size: 8 * MiB, seed: 12, options: { chunkSize: MiB }, stopAfter: 3 * MiB });
    expect(first.url).toBeNull();
    phase.n = 2;
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
    const second = await tusUpload(page, { name: 'resume.bin', size: 8 * MiB, seed: 12, options: { chunkSize: MiB }, resume: true });
    const after = seen.filter((s) => s.phase === 2);
    expect(after.map((s) => s.method).slice(0, 2), JSON.stringify(seen)).toEqual(['HEAD', 'PATCH']);
    expect(Number(after[1]!.offset)).toBeGreaterThanOrEqual(3 * MiB);
    expect(seen.filter((s) => s.method === 'POST')).toHaveLength(1);
    expect(await download(second.url!)).toBe(second.sha);
  });

  it('uploads in parallel: three partial uploads concatenated into one final upload', async () => {
    const page = await open(clientsPage);
    const seen = watchRequests(page, { n: 1 });
    const r = await tusUpload(page, { name: 'parallel.bin', size: 10 * MiB + 3, seed: 13, options: { parallelUploads: 3, chunkSize: 2 * MiB } });
    expect(seen.filter((s) => s.method === 'POST' && s.concat === 'partial')).toHaveLength(3);
    expect(seen.filter((s) => s.method === 'POST' && s.concat?.startsWith('final;'))).toHaveLength(1);
    expect(await download(r.url!)).toBe(r.sha);
  });
});

describe('Uppy (core, tus plugin, Dashboard) in Chromium', () => {
  it('uploads a file picked in the Dashboard; the Dashboard shows it complete', async () => {
    const file = path.join(work, 'dashboard.bin');
    const bytes = Buffer.alloc(5 * MiB + 5, 7);
    bytes.write('uppy dashboard upload', 0);
    await fsp.writeFile(file, bytes);
    const page = await open(uppyPage);
    await page.evaluate((endpoint) => void ((window as any).uppy = (window as any).startUppy(endpoint)), `${server.tusUrl}/`);
    await page.locator('.uppy-Dashboard-input').first().setInputFiles(file);
    const result = await page.evaluate(async () => {
      const r = await (window as any).uppy.upload();
      return { ok: r.successful.map((f: any) => f.uploadURL as string), failed: r.failed.map((f: any) => String(f.error)) };
    });
    expect(result.failed, log.join('\n')).toEqual([]);
    expect(result.ok).toHaveLength(1);
    expect(await download(result.ok[0])).toBe(sha256(bytes));
    await page.waitForSelector('.uppy-StatusBar.is-complete');
  });

  it('resumes after a page reload (fingerprint in localStorage; paused, then the page reloaded)', async () => {
    const phase = { n: 1 };
    const page = await open(uppyPage);
    const seen = watchRequests(page, phase);
    const addAndUpload = (stopAt?: number) =>
      page.evaluate(async ({ endpoint, stopAt, MiB }) => {
        const w = window as any;
        const uppy = w.startUppy(endpoint, { chunkSize: MiB });
        const file: File = w.makeFile('uppy-resume.bin', 8 * MiB, 21);
        uppy.addFile({ name: file.name, type: file.type, data: file, source: 'test' });
        if (stopAt !== undefined) {
          return new Promise<string>((resolve) => {
            uppy.on('upload-progress', (_f: unknown, p: { bytesUploaded: number }) => {
              if (p.bytesUploaded < stopAt) return;
              uppy.pauseAll();
              resolve('stopped');
            });
            uppy.upload();
          });
        }
        const r = await uppy.upload();
        return JSON.stringify({ url: r.successful[0]?.uploadURL, sha: await w.sha256Hex(file), failed: r.failed.map((f: any) => String(f.error)) });
      }, { endpoint: `${server.tusUrl}/`, stopAt, MiB });
    expect(await addAndUpload(3 * MiB)).toBe('stopped');
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
    phase.n = 2;
    const done = JSON.parse(await addAndUpload());
    expect(done.failed, log.join('\n')).toEqual([]);
    const after = seen.filter((s) => s.phase === 2);
    expect(after.filter((s) => s.method === 'POST'), JSON.stringify(seen)).toHaveLength(0);
    expect(after[0]!.method).toBe('HEAD');
    expect(Number(after.find((s) => s.method === 'PATCH')!.offset)).toBeGreaterThanOrEqual(2 * MiB);
    expect(await download(done.url)).toBe(done.sha);
  });

  it('uploads in parallel through the tus plugin (parallelUploads)', async () => {
    const page = await open(uppyPage);
    const seen = watchRequests(page, { n: 1 });
    const done = await page.evaluate(async (endpoint) => {
      const w = window as any;
      const uppy = w.startUppy(endpoint, { parallelUploads: 3 });
      const file: File = w.makeFile('uppy-parallel.bin', 9 * 1024 * 1024 + 1, 22);
      uppy.addFile({ name: file.name, type: file.type, data: file, source: 'test' });
      const r = await uppy.upload();
      return { url: r.successful[0]?.uploadURL as string, sha: await w.sha256Hex(file), failed: r.failed.map((f: any) => String(f.error)) };
    }, `${server.tusUrl}/`);
    expect(done.failed, log.join('\n')).toEqual([]);
    expect(seen.filter((s) => s.method === 'POST' && s.concat === 'partial')).toHaveLength(3);
    expect(await download(done.url)).toBe(done.sha);
  });
});

describe('the SDK bundle in Chromium', () => {
  it('waits as long as a 503 Retry-After says (the server exposes the header across origins)', async () => {
    const page = await open(clientsPage);
    const seen = watchRequests(page, { n: 1 });
    let refused = 0;
    // The second PATCH reaches the server, which stores it; the answer is turned into 503 + Retry-After: 2
    // keeping the server's own CORS headers, so only an exposed Retry-After is readable by the page.
    await page.route(`${server.tusUrl}/**`, async (route) => {
      if (route.request().method() !== 'PATCH' || seen.filter((s) => s.method === 'PATCH').length !== 2 || refused > 0) return route.continue();
      const real = await route.fetch();
      refused++;
      await route.fulfill({ status: 503, headers: { ...real.headers(), 'retry-after': '2', 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'STORAGE_UNAVAILABLE', message: 'busy' } }) });
    });
    const r = await page.evaluate(async (endpoint) => {
      const w = window as any;
      const { createClient } = w.tusEdge;
      const file: File = w.makeFile('retry.bin', 3 * 1024 * 1024, 31);
      const handle = createClient({ endpoint, chunkSize: 1024 * 1024 }).upload(file);
      const { url } = await handle.done;
      return { url, sha: await w.sha256Hex(file) };
    }, `${server.tusUrl}/`);
    expect(refused).toBe(1);
    const patches = seen.filter((s) => s.method === 'PATCH' || s.method === 'HEAD');
    const refusedAt = patches.filter((s) => s.method === 'PATCH')[1]!.at;
    const next = patches.find((s) => s.at > refusedAt)!;
    expect(next.at - refusedAt, JSON.stringify(patches)).toBeGreaterThanOrEqual(1900);
    expect(await download(r.url)).toBe(r.sha);
  });

  it('64 MiB from one page: plain tus-js-client and the SDK, timed', async () => {
    const page = await open(clientsPage);
    const times = await page.evaluate(async (endpoint) => {
      const w = window as any;
      const { createClient } = w.tusEdge;
      const file: File = w.makeFile('timed.bin', 64 * 1024 * 1024, 41);
      const sha = await w.sha256Hex(file);
      const plain = async (options: Record<string, unknown>) => {
        const t = performance.now();
        const url = await new Promise<string>((resolve, reject) => {
          const u = new w.tus.Upload(file, { endpoint, ...options, onError: reject, onSuccess: () => resolve(u.url) });
          u.start();
        });
        return { url, ms: performance.now() - t };
      };
      const sdk = async (options: Record<string, unknown>) => {
        const t = performance.now();
        const { url } = await createClient({ endpoint, resume: false, ...options }).upload(file).done;
        return { url, ms: performance.now() - t };
      };
      return {
        sha,
        tusDefault: await plain({}),
        tus5MiB: await plain({ chunkSize: 5 * 1024 * 1024 }),
        sdkDefault: await sdk({}),
        sdkOneRequest: await sdk({ chunkSize: 64 * 1024 * 1024 }),
      };
    }, `${server.tusUrl}/`);
    // Bytes compared for one upload of each client; the other two must at least be complete.
    for (const key of ['tusDefault', 'sdkDefault'] as const) expect(await download(times[key].url)).toBe(times.sha);
    for (const key of ['tus5MiB', 'sdkOneRequest'] as const) {
      const head = await fetch(times[key].url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
      expect(head.headers.get('upload-offset')).toBe(String(64 * MiB));
    }
    const line = (k: keyof typeof times) => `${(times[k] as { ms: number }).ms.toFixed(0)} ms`;
    console.log(`64 MiB from Chromium to the embedded server: tus-js-client default (one PATCH) ${line('tusDefault')}, tus-js-client 5 MiB chunks ${line('tus5MiB')}, SDK default (5 MiB chunks) ${line('sdkDefault')}, SDK one PATCH ${line('sdkOneRequest')}`);
  }, 120_000);
});
