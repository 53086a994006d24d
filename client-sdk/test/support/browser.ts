/**
 * Debian's Chromium driven by playwright-core, and a second origin for the pages under test: the
 * pages are served by a small HTTP server on another port than the tus server, so every request to
 * the tus server is cross-origin and the browser itself enforces CORS (preflights, exposed headers).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
// @ts-expect-error plain ESM build script without declarations
import { buildBundle } from '../../scripts/build.mjs';

export const SDK_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Screenshots and other artifacts (git-ignored). */
export const ARTIFACTS = path.join(SDK_DIR, 'test', 'artifacts');

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];

/** Starts Chromium (`/usr/bin/chromium`). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS, timeout: 30_000 });
}

/** A page whose console errors and page errors are collected (a test can print them on failure). */
export async function openPage(context: BrowserContext, url: string): Promise<{ page: Page; log: string[] }> {
  const page = await context.newPage();
  const log: string[] = [];
  page.on('console', (m) => log.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => log.push(`[pageerror] ${e.message}`));
  page.on('requestfailed', (r) => log.push(`[requestfailed] ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`));
  await page.goto(url);
  return { page, log };
}

/** Builds the SDK bundle (`dist/tus-edge.mjs`, what the server serves) and returns its bytes. */
export async function sdkBundle(): Promise<Uint8Array> {
  const { code } = (await buildBundle()) as { code: Uint8Array };
  return code;
}

/** Bundles a test page script (`test/pages/<name>.ts`) for the browser with esbuild. */
export async function bundlePage(name: string): Promise<string> {
  const out = await build({
    entryPoints: [path.join(SDK_DIR, 'test', 'pages', `${name}.ts`)],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    write: false,
    logLevel: 'error',
    loader: { '.css': 'text' },
  });
  return out.outputFiles[0]!.text;
}

export interface PageOrigin {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Adds or replaces a file served at `pathname`. */
  put(pathname: string, body: string | Uint8Array, type: string): void;
  close(): Promise<void>;
}

const html = (title: string, script: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><div id="app"></div><script type="module" src="${script}"></script></body></html>`;

/**
 * Serves test pages from memory on 127.0.0.1 (another origin than the tus server): `/sdk/tus-edge.mjs`
 * (the bundle), `/demo/*` (the demo's files, as the server serves them), and `put()` files.
 */
export async function startPageOrigin(bundle: Uint8Array): Promise<PageOrigin> {
  const files = new Map<string, { body: string | Uint8Array; type: string }>();
  files.set('/sdk/tus-edge.mjs', { body: bundle, type: 'text/javascript' });
  const demoDir = path.join(SDK_DIR, 'demo');
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
  for (const name of fs.readdirSync(demoDir)) files.set(`/demo/${name}`, { body: fs.readFileSync(path.join(demoDir, name)), type: types[path.extname(name)] ?? 'application/octet-stream' });
  files.set('/demo/', files.get('/demo/index.html')!);
  const server = http.createServer((req, res) => {
    const file = files.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (!file) return res.writeHead(404).end('not found');
    res.writeHead(200, { 'Content-Type': `${file.type}; charset=utf-8`, 'Cache-Control': 'no-store' }).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    put: (pathname, body, type) => void files.set(pathname, { body, type }),
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** Registers a bundled test page (`test/pages/<name>.ts`) at `/<name>.html`. */
export async function putTestPage(origin: PageOrigin, name: string): Promise<string> {
  origin.put(`/${name}.js`, await bundlePage(name), 'text/javascript');
  origin.put(`/${name}.html`, html(name, `/${name}.js`), 'text/html');
  return `${origin.url}/${name}.html`;
}

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
