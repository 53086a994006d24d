/**
 * Dedup with the processors running in the server (embedded default): a video uploaded twice runs
 * ffmpeg and OpenAI once (the second upload's jobs reuse the first's results and say so), and the
 * catalogue gets the sniffed type and the processing summary; content whose sha256 is known only from
 * the fingerprint processor is deduplicated then. ffmpeg/ffprobe are the real ones, counted through a
 * PATH wrapper; OpenAI is the test kit's fake.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest, makeVideo, OCTET, sha256, startFakeOpenAI, TUS, type FakeOpenAI } from '@tus-edge/testkit';
import { startTestServer, tempDir, type TestServer } from '../harness.js';

let work: string;
let calls: string;
let fake: FakeOpenAI;
beforeAll(async () => {
  work = await tempDir('dedup-processing-');
  const bin = path.join(work, 'bin');
  calls = path.join(work, 'calls.log');
  await fsp.mkdir(bin);
  for (const tool of ['ffmpeg', 'ffprobe']) {
    await fsp.writeFile(path.join(bin, tool), `#!/bin/sh\necho ${tool} >> '${calls}'\nexec /usr/bin/${tool} "$@"\n`, { mode: 0o755 });
  }
  process.env.PATH = `${bin}:${process.env.PATH}`;
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake?.close();
  await fsp.rm(work, { recursive: true, force: true });
});

const b64 = (s: string) => Buffer.from(s).toString('base64');
async function upload(server: TestServer, data: Buffer, metadata: Record<string, string>): Promise<string> {
  const meta = Object.entries(metadata).map(([k, v]) => `${k} ${b64(v)}`).join(',');
  const created = await httpRequest(server.tusUrl, 'POST', { ...TUS, 'Upload-Length': String(data.length), 'Upload-Metadata': meta });
  const url = new URL(String(created.headers.location), server.url).href;
  const res = await httpRequest(url, 'PATCH', { ...TUS, 'Upload-Offset': '0', 'Content-Type': OCTET }, data);
  expect(res.status, res.body.toString()).toBe(204);
  return url.split('/').pop()!;
}

async function until<T>(what: string, check: () => Promise<T | undefined | false>, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
const toolCalls = () => (fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').split('\n').filter(Boolean).length : 0);

describe('dedup with processing (embedded)', () => {
  it('the second upload of a video runs no ffmpeg and no OpenAI job and shows the same results, recorded as reused', async () => {
    const server = await startTestServer({
      OPENAI_API_KEY: 'sk-dummy', OPENAI_BASE_URL: fake.baseURL, VIDEO_PREVIEW_FRAMES: '2', FFMPEG_THREADS: '1', EXPIRY_SWEEP_INTERVAL: '1s',
    });
    try {
      const file = path.join(work, 'clip.mp4');
      await makeVideo(file, { seconds: 2 });
      const video = await fsp.readFile(file);
      fs.writeFileSync(calls, '');
      const first = await upload(server, video, { filename: 'clip.mp4', filetype: 'video/mp4' });
      const catalogued = (id: string) => until(`the processing summary of ${id}`, async () => {
        const entry = await server.deps.catalogue.byUpload(id);
        return entry?.file.processing ? entry : undefined;
      });
      const a = await catalogued(first);
      expect(a.file.processing).toMatchObject({ state: 'done', jobs: { video: { state: 'done' }, fingerprint: { state: 'done' } } });
      expect(a.file.mediaType).toBe('video/mp4');
      const ffmpegRuns = toolCalls();
      const openai = fake.requests.length;
      expect(ffmpegRuns).toBeGreaterThan(0);
      expect(openai).toBeGreaterThan(0);

      const second = await upload(server, video, { filename: 'copy.mp4', filetype: 'video/mp4' });
      const b = await catalogued(second);
      expect(b.file.objectId).toBe(a.file.objectId);
      expect(fs.existsSync(path.join(server.dataDir, 'uploads', second))).toBe(false);
      expect(toolCalls()).toBe(ffmpegRuns);
      expect(fake.requests.length).toBe(openai);
      for (const kind of ['video', 'generate', 'fingerprint']) expect(b.file.processing?.jobs).toMatchObject({ [kind]: { reusedFrom: first } });

      const info = async (id: string) => JSON.parse((await httpRequest(`${server.url}/api/uploads/${id}`, 'GET')).body.toString());
      const [ia, ib] = [await info(first), await info(second)];
      expect(ib.processing.jobs.video.result).toEqual(ia.processing.jobs.video.result);
      expect(ib.processing.jobs.video.reusedFrom).toBe(first);
      const list = async (id: string) => JSON.parse((await httpRequest(`${server.url}/api/uploads/${id}/results`, 'GET')).body.toString()).files;
      expect(await list(second)).toEqual(await list(first));
      const poster = (await list(first)).find((f: { name: string }) => f.name.endsWith('.jpg'))?.name;
      expect(poster).toBeDefined();
      const [pa, pb] = await Promise.all([first, second].map((id) => httpRequest(`${server.url}/api/uploads/${id}/results/${poster}`, 'GET')));
      expect(pb.status).toBe(200);
      expect(sha256(pb.body)).toBe(sha256(pa.body));
    } finally {
      await server.close();
    }
  }, 240_000);

  it('content known only from the fingerprint is deduplicated once the fingerprint is done', async () => {
    const server = await startTestServer({ HASH_WHILE_RECEIVING: 'false', HASH_AT_FINISH_MAX: '0', PROCESSOR_KINDS: 'fingerprint', EXPIRY_SWEEP_INTERVAL: '1s' });
    try {
      const data = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(200_000)]);
      const a = await upload(server, data, { filename: 'a.pdf' });
      const b = await upload(server, data, { filename: 'b.pdf' });
      const deduped = await until('the late dedup', async () => {
        const [ea, eb] = [await server.deps.catalogue.byUpload(a), await server.deps.catalogue.byUpload(b)];
        return ea?.file.sha256 && eb?.file.sha256 && ea.file.objectId === eb.file.objectId && eb.file.processing ? { ea, eb } : undefined;
      }, 60_000);
      expect(deduped.eb.file).toMatchObject({ sha256: sha256(data), mediaType: 'application/pdf' });
      const kept = [a, b].filter((id) => fs.existsSync(path.join(server.dataDir, 'uploads', id)));
      expect(kept).toHaveLength(1);
      for (const id of [a, b]) expect(sha256((await httpRequest(`${server.tusUrl}/${id}`, 'GET', TUS)).body)).toBe(sha256(data));
      expect((await server.deps.catalogue.usage({ tenant: '', owner: '' })).bytesStored).toBe(data.length);
    } finally {
      await server.close();
    }
  }, 120_000);
});
