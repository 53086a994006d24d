/**
 * The bundle and the entry points: the README's integrity hash is the one of the bundle the build
 * makes (so a change to the SDK shows up as a README change), the bundle exports what the browser
 * entry exports, and the browser and Node entry points have the same surface.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM build script without declarations
import { buildBundle } from '../scripts/build.mjs';
import { SDK_DIR } from './support/browser.js';

describe('the SDK bundle', () => {
  it('has the integrity hash the README gives, and stays small', async () => {
    const { code, sizes } = (await buildBundle({ write: false })) as { code: Uint8Array; sizes: { withTus: { gzip: number }; sdkAlone: { gzip: number } } };
    const integrity = `sha384-${createHash('sha384').update(code).digest('base64')}`;
    const readme = await fs.readFile(path.join(SDK_DIR, '..', 'README.md'), 'utf8');
    const documented = /<!-- sdk-integrity -->`([^`]+)`<!-- \/sdk-integrity -->/.exec(readme)?.[1];
    expect(documented, 'README.md: update the integrity hash of /sdk/tus-edge.mjs').toBe(integrity);
    expect(sizes.withTus.gzip).toBeLessThan(32 * 1024);
    expect(sizes.sdkAlone.gzip).toBeLessThan(8 * 1024);
  });

  it('browser and Node entry points export the same names; so does the bundle', async () => {
    const browser = await import(path.join(SDK_DIR, 'dist', 'browser.js'));
    const node = await import('@tus-edge/client-sdk');
    expect(Object.keys(browser).sort()).toEqual(Object.keys(node).sort());
    expect(Object.keys(node).sort()).toEqual(['TusEdgeError', 'createClient']);
    const bundle = await fs.readFile(path.join(SDK_DIR, 'dist', 'tus-edge.mjs'), 'utf8');
    expect(bundle).toMatch(/export\s*\{[^}]*\bas createClient\b[^}]*\}|export\s*\{[^}]*\bcreateClient\b/);
    expect(bundle).toMatch(/\bTusEdgeError\b/);
  });
});
