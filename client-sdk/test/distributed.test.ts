/**
 * The SDK bundle in Chromium uploading in parallel (concatenation) through nginx to three server
 * nodes on S3 (Swift) + Redis, from another origin: the partial uploads and the final one are spread
 * over the nodes, and the assembled upload has the bytes of the file.
 */
import fsp from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, putTestPage, sdkBundle, sha256, startPageOrigin, type PageOrigin } from './support/browser.js';
import { startStack, type Stack } from './support/services.js';

let stack: Stack;
let browser: Browser;
let origin: PageOrigin;
let pageUrl: string;

beforeAll(async () => {
  // The stack first, alone: Swift's start is the slowest part and suffers most from a busy machine.
  stack = await startStack({ nodes: 3, timeoutMs: 150_000, env: { LOCK_TTL: '2s', S3_PART_SIZE: '5MiB', STAGING_MIN_FREE: '64MiB' } });
  [browser, origin] = await Promise.all([launchChromium(), startPageOrigin(await sdkBundle())]);
  pageUrl = await putTestPage(origin, 'clients');
}, 240_000);
afterAll(async () => {
  await browser?.close();
  await origin?.close();
  await stack?.stop();
}, 60_000);

/** Requests each node answered on the tus route, from its own /metrics. */
async function tusRequestsPerNode(): Promise<number[]> {
  return Promise.all(stack.nodes.map(async (node) => {
    const text = await (await fetch(`${node.url}/metrics`)).text();
    return text.split('\n').filter((l) => l.startsWith('http_requests_total{') && l.includes('route="tus"')).reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  }));
}

describe('SDK parallel upload through nginx to three nodes on S3 + Redis', () => {
  it('uploads 40 MiB as three partial uploads concatenated by the server; every node takes part; the bytes are identical', async () => {
    const before = await tusRequestsPerNode();
    const context = await browser.newContext();
    try {
      const { page, log } = await openPage(context, pageUrl);
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
      const concat: string[] = [];
      page.on('request', (r) => {
        const h = r.headers()['upload-concat'];
        if (h && r.method() === 'POST') concat.push(h.startsWith('final;') ? 'final' : h);
      });
      const r = await page.evaluate(async (endpoint) => {
        const w = window as any;
        const file: File = w.makeFile('parallel-s3.bin', 40 * 1024 * 1024 + 123, 51);
        const client = w.tusEdge.createClient({ endpoint, parallelThreshold: 16 * 1024 * 1024, parallelUploads: 3 });
        const handle = client.upload(file);
        const { url } = await handle.done;
        return { url, parallel: handle.parallel, sha: await w.sha256Hex(file) };
      }, `${stack.url}/files/`);
      expect(r.parallel, log.join('\n')).toBe(true);
      expect(concat.sort()).toEqual(['final', 'partial', 'partial', 'partial']);
      expect(r.url.startsWith(`${stack.url}/files/`)).toBe(true);
      const body = new Uint8Array(await (await fetch(r.url)).arrayBuffer());
      expect(body.byteLength).toBe(40 * 1024 * 1024 + 123);
      expect(sha256(body)).toBe(r.sha);
      const after = await tusRequestsPerNode();
      expect(after.map((n, i) => n - before[i]!).every((n) => n > 0), `tus requests per node: ${after.map((n, i) => n - before[i]!)}`).toBe(true);
    } finally {
      await context.close();
    }
  }, 120_000);
});
