/**
 * Builds the browser bundle `dist/tus-edge.mjs` (ESM, minified, tus-js-client inside) from
 * `src/browser.ts` with esbuild, and its declarations `dist/tus-edge.d.mts` (re-exporting the ones
 * `tsc -b` writes). Run by `npm run build` (the root build calls it) and by the browser tests.
 * `node scripts/build.mjs` prints the sizes (minified, gzip; SDK alone and with tus-js-client).
 */
import { build } from 'esbuild';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export const SDK_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE = path.join(SDK_DIR, 'dist', 'tus-edge.mjs');

const common = {
  entryPoints: [path.join(SDK_DIR, 'src', 'browser.ts')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2020'],
  minify: true,
  legalComments: 'none',
  logLevel: 'error',
};

/** Builds the bundle; returns its bytes and a size report. */
export async function buildBundle({ write = true } = {}) {
  const full = await build({ ...common, write: false, metafile: true, outfile: BUNDLE });
  const code = full.outputFiles[0].contents;
  if (write) {
    await fs.mkdir(path.dirname(BUNDLE), { recursive: true });
    await fs.writeFile(BUNDLE, code);
    await fs.writeFile(path.join(SDK_DIR, 'dist', 'tus-edge.d.mts'), "export * from './browser.js';\n");
  }
  const alone = await build({ ...common, write: false, outfile: BUNDLE, external: ['tus-js-client'] });
  const aloneCode = alone.outputFiles[0].contents;
  return {
    code,
    sizes: {
      withTus: { minified: code.byteLength, gzip: gzipSync(code).byteLength },
      sdkAlone: { minified: aloneCode.byteLength, gzip: gzipSync(aloneCode).byteLength },
    },
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { sizes } = await buildBundle();
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(`tus-edge.mjs: ${kib(sizes.withTus.minified)} minified, ${kib(sizes.withTus.gzip)} gzip (SDK alone: ${kib(sizes.sdkAlone.minified)}, ${kib(sizes.sdkAlone.gzip)} gzip)`);
}
