import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/harness.js';
import { TUS } from '@tus-edge/testkit';


describe('expiry with an injected clock', () => {
  let server: TestServer;
  afterEach(() => server?.close());

  it('slides on writes, answers 410 once expired, and the sweep removes bytes and status but keeps a tombstone', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    server = await startTestServer({ UPLOAD_EXPIRY: '1h' }, { now: () => new Date(now) });
    const created = await fetch(server.tusUrl, { method: 'POST', headers: { ...TUS, 'Upload-Length': '10' } });
    expect(created.headers.get('upload-expires')).toBe('Thu, 01 Jan 2026 01:00:00 GMT');
    const url = created.headers.get('location')!;
    now += 30 * 60_000;
    const patched = await fetch(url, {
      method: 'PATCH',
      headers: { ...TUS, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' },
      body: 'abc',
    });
    expect(patched.headers.get('upload-expires')).toBe('Thu, 01 Jan 2026 01:30:00 GMT');
    now += 59 * 60_000;
    expect((await fetch(url, { method: 'HEAD', headers: TUS })).status).toBe(200);
    now += 2 * 60_000;
    expect((await fetch(url, { method: 'HEAD', headers: TUS })).status).toBe(410);
    const id = url.split('/').pop()!;
    expect((await server.deps.storage.offset(id))?.bytes).toBe(3);
    const someStatus = () => server.deps.status.update({ uploadId: id, eventId: `upload-${id}`, kind: 'fingerprint', patch: { state: 'queued' } });
    await someStatus();
    const swept = await sweep(server);
    expect(swept).toBe(1);
    expect((await server.deps.storage.offset(id))?.bytes).toBeUndefined();
    expect(await server.deps.status.get(id)).toBeNull();
    expect(fs.existsSync(path.join(server.dataDir, 'uploads', id))).toBe(false);
    expect((await fetch(url, { method: 'HEAD', headers: TUS })).status).toBe(410);
    const patchAfter = await fetch(url, {
      method: 'PATCH',
      headers: { ...TUS, 'Upload-Offset': '3', 'Content-Type': 'application/offset+octet-stream' },
      body: 'def',
    });
    expect(patchAfter.status).toBe(410);
    await someStatus(); // written late, by a job that was still running at expiry
    now += 2 * 3_600_000;
    await sweep(server);
    expect((await fetch(url, { method: 'HEAD', headers: TUS })).status).toBe(404);
    expect(await server.deps.status.get(id)).toBeNull();
  });

  it('PATCHes within a minute of the last stored expiry slide it no further (no record write each PATCH)', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    server = await startTestServer({ UPLOAD_EXPIRY: '1h' }, { now: () => new Date(now) });
    const url = (await fetch(server.tusUrl, { method: 'POST', headers: { ...TUS, 'Upload-Length': '10' } })).headers.get('location')!;
    const patch = (offset: number) =>
      fetch(url, { method: 'PATCH', headers: { ...TUS, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' }, body: 'ab' });
    now += 30_000; // under the 36 s slack (1 % of an hour): the stored expiry stays, and is what the client is told
    expect((await patch(0)).headers.get('upload-expires')).toBe('Thu, 01 Jan 2026 01:00:00 GMT');
    now += 10_000; // 40 s after the stored expiry was set: slid again
    expect((await patch(2)).headers.get('upload-expires')).toBe('Thu, 01 Jan 2026 01:00:40 GMT');
    expect((await fetch(url, { method: 'HEAD', headers: TUS })).headers.get('upload-expires')).toBe('Thu, 01 Jan 2026 01:00:40 GMT');
  });

  it('a final upload waits for partials that are still being written, and goes (410) when one of them expires', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    server = await startTestServer({ UPLOAD_EXPIRY: '1h' }, { now: () => new Date(now) });
    const post = async (headers: Record<string, string>) => (await fetch(server.tusUrl, { method: 'POST', headers: { ...TUS, ...headers } })).headers.get('location')!;
    const patch = (url: string, offset: number, body: string) =>
      fetch(url, { method: 'PATCH', headers: { ...TUS, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' }, body });
    const part = async () => post({ 'Upload-Length': '4', 'Upload-Concat': 'partial' });
    const [a, b] = [await part(), await part()];
    const finalUrl = await post({ 'Upload-Concat': `final;${new URL(a).pathname} ${new URL(b).pathname}` });
    for (let minutes = 0; minutes < 90; minutes += 30) {
      now += 30 * 60_000; // the final's own hour runs out; the partials are still being written
      expect((await fetch(finalUrl, { method: 'HEAD', headers: TUS })).status).toBe(200); // before any sweep, too
      expect((await patch(a, minutes / 30, 'x')).status).toBe(204);
      expect((await patch(b, minutes / 30, 'y')).status).toBe(204);
      await sweep(server);
      expect((await fetch(finalUrl, { method: 'HEAD', headers: TUS })).status).toBe(200);
    }
    expect((await patch(a, 3, 'x')).status).toBe(204);
    expect((await patch(b, 3, 'y')).status).toBe(204);
    expect(await (await fetch(finalUrl)).text()).toBe('xxxxyyyy');

    const [c, d] = [await part(), await part()];
    const abandoned = await post({ 'Upload-Concat': `final;${new URL(c).pathname} ${new URL(d).pathname}` });
    await patch(c, 0, 'cccc');
    now += 2 * 3_600_000; // d is never written again: it expires, and the final with it
    await sweep(server);
    expect((await fetch(d, { method: 'HEAD', headers: TUS })).status).toBe(410);
    expect((await fetch(abandoned, { method: 'HEAD', headers: TUS })).status).toBe(410);
  });

  it('never expires finished uploads', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    server = await startTestServer({ UPLOAD_EXPIRY: '1h' }, { now: () => new Date(now) });
    const created = await fetch(server.tusUrl, {
      method: 'POST',
      headers: { ...TUS, 'Upload-Length': '3', 'Content-Type': 'application/offset+octet-stream' },
      body: 'abc',
    });
    expect(created.headers.get('upload-offset')).toBe('3');
    expect(created.headers.get('upload-expires')).toBeNull();
    now += 10 * 3_600_000;
    expect(await sweep(server)).toBe(0);
    const download = await fetch(created.headers.get('location')!);
    expect(download.status).toBe(200);
    expect(await download.text()).toBe('abc');
  });
});

function sweep(server: TestServer): Promise<number> {
  return server.uploads.sweepExpired();
}
