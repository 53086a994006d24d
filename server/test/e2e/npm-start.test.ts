import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { freePort, REPO_ROOT, tempDir } from '../harness.js';

describe('acceptance contract: PORT=<p> DATA_DIR=<dir> npm start', () => {
  it('serves tus at http://127.0.0.1:<p>/files/ and answers /readyz with 200, and stops on SIGTERM', async () => {
    const port = await freePort();
    const dataDir = await tempDir();
    const child = spawn('npm', ['start', '--silent'], {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 45_000;
      let ready = false;
      while (!ready && Date.now() < deadline && child.exitCode === null) {
        ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false);
        if (!ready) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ready, out).toBe(true);
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
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    }
  });
});
