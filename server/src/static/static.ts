/**
 * The browser SDK and the demo page, served as static files from the `@tus-edge/client-sdk` package:
 * - `GET /sdk/tus-edge.mjs`: the ESM bundle (built by `npm run build`), cached for a year as immutable;
 * - `GET /demo/`: the demo page (plain files, no build step at run time), revalidated on every load;
 * - `GET /demo/config.json`: where the demo finds the tus endpoint of this server (`TUS_PATH`).
 * Files are read once and kept in memory (the bundle is ~70 KiB, the demo a few KiB); only names found
 * in the demo folder at start are served, so no path can leave it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Context } from 'hono';
import type { ApiApp } from '../http/openapi.js';

/** Where the SDK package keeps what is served. */
export interface StaticPaths {
  bundle: string;
  demoDir: string;
}

/** The installed `@tus-edge/client-sdk`'s bundle and demo folder. */
export function sdkPaths(): StaticPaths {
  const dir = path.dirname(createRequire(import.meta.url).resolve('@tus-edge/client-sdk/package.json'));
  return { bundle: path.join(dir, 'dist', 'tus-edge.mjs'), demoDir: path.join(dir, 'demo') };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

/** A static file read once: its bytes, strong ETag and media type. */
export interface Loaded {
  body: Uint8Array;
  etag: string;
  type: string;
}

/** Reads `file` into memory with its ETag and media type (by extension). */
export function load(file: string): Loaded {
  const body = fs.readFileSync(file);
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`, type: TYPES[path.extname(file)] ?? 'application/octet-stream' };
}

/** Answers GET/HEAD with `file` (304 on a matching If-None-Match). */
export function serve(c: Context, file: Loaded, cacheControl: string): Response {
  const headers = {
    'Content-Type': file.type,
    'Cache-Control': cacheControl,
    ETag: file.etag,
    'X-Content-Type-Options': 'nosniff',
  };
  if (c.req.header('if-none-match') === file.etag) return new Response(null, { status: 304, headers });
  return new Response(c.req.method === 'HEAD' ? null : file.body, { status: 200, headers: { ...headers, 'Content-Length': String(file.body.byteLength) } });
}

const missing = (what: string) =>
  new Response(JSON.stringify({ error: { code: 'NOT_BUILT', message: `${what} is missing: run "npm run build"` } }), {
    status: 404,
    headers: { 'Content-Type': 'application/json' },
  });

/** Mounts `/sdk/tus-edge.mjs`, `/demo/` and `/demo/config.json`. */
export function mountStatic(app: ApiApp, tusPath: string, paths: StaticPaths = sdkPaths()): void {
  let bundle: Loaded | undefined;
  app.on(['GET', 'HEAD'], '/sdk/tus-edge.mjs', (c) => {
    if (!bundle) {
      if (!fs.existsSync(paths.bundle)) return missing('the SDK bundle');
      bundle = load(paths.bundle);
    }
    return serve(c, bundle, IMMUTABLE);
  });

  const demo = new Map<string, Loaded>();
  if (fs.existsSync(paths.demoDir)) {
    for (const name of fs.readdirSync(paths.demoDir)) {
      const file = path.join(paths.demoDir, name);
      if (fs.statSync(file).isFile() && TYPES[path.extname(name)]) demo.set(name, load(file));
    }
  }
  const config: Loaded = { body: new TextEncoder().encode(JSON.stringify({ endpoint: `${tusPath}/` })), etag: '"config"', type: TYPES['.json']! };
  config.etag = `"${createHash('sha256').update(config.body).digest('base64url').slice(0, 27)}"`;
  app.on(['GET', 'HEAD'], '/demo', (c) => c.redirect('/demo/', 301));
  app.on(['GET', 'HEAD'], '/demo/:name{.*}', (c) => {
    const name = c.req.param('name') || 'index.html';
    if (name === 'config.json') return serve(c, config, REVALIDATE);
    const file = demo.get(name);
    return file ? serve(c, file, REVALIDATE) : c.json({ error: { code: 'NOT_FOUND', message: 'no such file' } }, 404);
  });
}
