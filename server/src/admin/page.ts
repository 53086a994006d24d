/**
 * The operator's page `/admin/`: plain HTML, JS (ES modules) and CSS shipped as files in
 * `server/public/admin/` (no build step at run time), read once at start and kept in memory. The page
 * itself is open; every bit of data it shows comes from the operator API, with the operator token the
 * page asks for (kept in the tab's sessionStorage). Only names found in the folder are served.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiApp } from '../http/openapi.js';
import { load, serve, type Loaded } from '../static/static.js';

/** `server/public/admin`, from `server/src/admin` (tests) and `server/dist/admin` (built) alike. */
export const ADMIN_PAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'public', 'admin');

/**
 * Scripts, styles and data only from this origin; no framing (the page holds a token). The charts are
 * SVG drawn by the page's own script; inline styles are not used.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/** Mounts `/admin` (redirect) and `/admin/<file>` (`index.html` for `/admin/`). */
export function mountAdminPage(app: ApiApp, dir: string = ADMIN_PAGE_DIR): void {
  const files = new Map<string, Loaded>();
  if (fs.existsSync(dir)) {
    for (const name of fs.readdirSync(dir)) {
      const file = path.join(dir, name);
      if (fs.statSync(file).isFile() && /\.(html|js|css|svg)$/.test(name)) files.set(name, load(file));
    }
  }
  app.on(['GET', 'HEAD'], '/admin', (c) => c.redirect('/admin/', 301));
  app.on(['GET', 'HEAD'], '/admin/:name{.*}', (c) => {
    const file = files.get(c.req.param('name') || 'index.html');
    if (!file) return c.json({ error: { code: 'NOT_FOUND', message: 'no such file' } }, 404);
    const res = serve(c, file, 'no-cache');
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.headers.set(k, v);
    return res;
  });
}
