/**
 * The acceptance contract of issue 14, on what `npm start` runs: `PORT=<p> DATA_DIR=<d> npm start`
 * (auth off). The same bytes uploaded twice with `filename` and `tags` are both listed by
 * `GET /api/files?tag=<t>`, `GET /api/usage` reports the stored bytes of that content once, and uploads
 * with the same metadata `key` appear as versions in `GET /api/files/:id/versions`.
 * Deduplication and versions are the dedup side's part of the issue: this test passes once it is merged.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startNpmStart } from '../harness.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('acceptance contract of issue 14: PORT=<p> DATA_DIR=<dir> npm start', () => {
  it('lists both copies by tag, counts their bytes once, and keeps versions by key', { timeout: 240_000 }, async () => {
    const server = await startNpmStart();
    const { base } = server;
    const out = server.output;
    const upload = async (body: Buffer, metadata: Record<string, string>) => {
      const res = await fetch(`${base}/files/`, {
        method: 'POST',
        headers: {
          'Tus-Resumable': '1.0.0', 'Upload-Length': String(body.length), 'Content-Type': 'application/offset+octet-stream',
          'Upload-Metadata': Object.entries(metadata).map(([k, v]) => `${k} ${b64(v)}`).join(','),
        },
        body,
      });
      expect(res.status, out()).toBe(201);
      expect(res.headers.get('upload-offset')).toBe(String(body.length));
    };
    try {

      const content = randomBytes(64 * 1024 + 3);
      await upload(content, { filename: 'first.bin', tags: 'acceptance,copies' });
      await upload(content, { filename: 'second.bin', tags: 'copies, acceptance' });
      const listed = (await (await fetch(`${base}/api/files?tag=acceptance`)).json()) as { files: Array<{ name: string; size: number }> };
      expect(listed.files.map((f) => f.name).sort()).toEqual(['first.bin', 'second.bin']);

      // The stored bytes of that content once (deduplicated at finish, or once the fingerprint is known).
      let usage: { files: number; bytesStored: number; bytesDeduplicated: number } | undefined;
      const until = Date.now() + 60_000;
      do {
        if (usage) await sleep(250);
        usage = (await (await fetch(`${base}/api/usage`)).json()) as typeof usage;
      } while (usage!.bytesStored !== content.length && Date.now() < until);
      expect(usage).toMatchObject({ files: 2, bytesStored: content.length, bytesDeduplicated: content.length });

      await upload(Buffer.from('version one'), { filename: 'doc.txt', key: 'doc-1' });
      await upload(Buffer.from('version two, longer'), { filename: 'doc.txt', key: 'doc-1' });
      const docs = (await (await fetch(`${base}/api/files?namePrefix=doc.txt`)).json()) as { files: Array<{ id: string; key: string }> };
      expect(docs.files).toHaveLength(1);
      const versions = await fetch(`${base}/api/files/${docs.files[0]!.id}/versions`);
      expect(versions.status).toBe(200);
      const body = (await versions.json()) as { versions: Array<{ version: number; size: number }> };
      expect(body.versions.map((v) => [v.version, v.size]).sort()).toEqual([[1, 11], [2, 19]]);
    } finally {
      await server.stop();
    }
  });
});
