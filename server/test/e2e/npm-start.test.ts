import { describe, expect, it } from 'vitest';
import { startNpmStart } from '../harness.js';

describe('acceptance contract: PORT=<p> DATA_DIR=<dir> npm start', () => {
  it('serves tus at http://127.0.0.1:<p>/files/ and answers /readyz with 200, and stops on SIGTERM', async () => {
    const server = await startNpmStart({}, 45_000);
    const port = new URL(server.base).port;
    try {
      const options = await fetch(`http://127.0.0.1:${port}/files/`, { method: 'OPTIONS' });
      expect(options.status).toBe(200);
      expect(options.headers.get('tus-version')).toBe('1.0.0');
      const created = await fetch(`http://127.0.0.1:${port}/files/`, {
        method: 'POST',
        headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '2', 'Content-Type': 'application/offset+octet-stream' },
        body: 'ok',
      });
      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/files/[0-9a-f]{32}$`));
      // The browser SDK bundle and the demo page.
      const sdk = await fetch(`http://127.0.0.1:${port}/sdk/tus-edge.mjs`);
      expect(sdk.status).toBe(200);
      expect(await sdk.text()).toContain('createClient');
      const demo = await fetch(`http://127.0.0.1:${port}/demo/`);
      expect(demo.status).toBe(200);
      expect(await demo.text()).toContain('<input type="file"');
    } finally {
      await server.stop();
    }
  });
});
