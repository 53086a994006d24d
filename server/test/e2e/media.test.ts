/**
 * End to end, as `npm start` runs it (the compiled server in its own process, the processor runtime
 * in-process): a video and a PDF uploaded with tus-js-client end with metadata, a poster, frames, an
 * MP4 rendition, extracted text and generated content in GET /api/uploads/:id, and every result is
 * downloadable from the results API. OpenAI is a local fake server (a dummy key, OPENAI_BASE_URL).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import * as tus from 'tus-js-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePdf, makeVideo, startFakeOpenAI, type FakeOpenAI } from '@tus-edge/testkit';
import { spawnServer, tempDir, type SpawnedServer } from '../harness.js';

interface Job {
  state: string;
  attempts: number;
  reason?: string;
  result?: Record<string, any>;
  outputLocation?: string | null;
}
interface Info {
  state: string;
  processing: { state: string; reason?: string; jobs: Record<string, Job> } | null;
}

let server: SpawnedServer;
let fake: FakeOpenAI;
let work: string;
beforeAll(async () => {
  work = await tempDir('media-e2e-');
  fake = await startFakeOpenAI();
  server = await spawnServer({ OPENAI_API_KEY: 'sk-dummy', OPENAI_BASE_URL: fake.baseURL, OPENAI_MODEL: 'gpt-e2e', VIDEO_PREVIEW_FRAMES: '2', FFMPEG_THREADS: '1' });
}, 60_000);
afterAll(async () => {
  if (server && server.child.exitCode === null) await server.terminate();
  await fake?.close();
  await fsp.rm(work, { recursive: true, force: true });
  if (server) await fsp.rm(server.dataDir, { recursive: true, force: true });
});

function upload(data: Buffer, metadata: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const u: tus.Upload = new tus.Upload(data, {
      endpoint: server.tusUrl,
      metadata,
      chunkSize: 256 * 1024,
      retryDelays: [0, 500],
      onError: reject,
      onSuccess: () => resolve(new URL(u.url!).pathname.split('/').pop()!),
    });
    u.start();
  });
}

async function processed(id: string, ms = 90_000): Promise<Info> {
  const deadline = Date.now() + ms;
  for (;;) {
    const info = (await (await fetch(`${server.url}/api/uploads/${id}`)).json()) as Info;
    const jobs = Object.values(info.processing?.jobs ?? {});
    if (info.processing && ['done', 'failed'].includes(info.processing.state) && jobs.every((j) => ['done', 'failed', 'skipped'].includes(j.state))) return info;
    if (Date.now() > deadline) throw new Error(`not processed in time: ${JSON.stringify(info.processing)}\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const download = async (id: string, name: string) => {
  const res = await fetch(`${server.url}/api/uploads/${id}/results/${name}`);
  expect(res.status, `${name}: ${res.status}`).toBe(200);
  return { type: res.headers.get('content-type'), body: Buffer.from(await res.arrayBuffer()) };
};

describe('npm start: media processing end to end', () => {
  it('a video and a PDF uploaded with tus-js-client: metadata, thumbnail, rendition, text and generated content', async () => {
    const videoFile = path.join(work, 'lecture.mp4');
    await makeVideo(videoFile, { seconds: 3 });
    const video = await fsp.readFile(videoFile);
    const pdf = makePdf(['Week 1: cells.\nCells are the unit of life.', 'Week 2: energy.\nMitochondria make ATP.'], { Title: 'Biology notes' });
    const [videoId, pdfId] = await Promise.all([
      upload(video, { filename: 'lecture.mp4', filetype: 'video/mp4' }),
      upload(pdf, { filename: 'notes.pdf', filetype: 'application/pdf' }),
    ]);

    const v = await processed(videoId);
    expect(v.state).toBe('finished');
    expect(v.processing!.state, JSON.stringify(v.processing)).toBe('done');
    expect(v.processing!.jobs.fingerprint.result).toMatchObject({ mime: 'video/mp4', declaredTypeMatches: true });
    expect(v.processing!.jobs.documents).toMatchObject({ state: 'skipped' });
    const vr = v.processing!.jobs.video.result!;
    expect(vr.metadata).toMatchObject({ video: { codec: 'h264', width: 640, height: 360 }, audioTracks: [{ codec: 'aac' }] });
    expect(vr.poster).toBe('poster.jpg');
    expect(vr.renditions).toEqual([expect.objectContaining({ name: 'video-360p.mp4', contentType: 'video/mp4' })]);
    expect(vr.transcript).toMatchObject({ state: 'done', language: 'english' });
    expect(v.processing!.jobs.generate).toMatchObject({ state: 'done', result: { model: 'gpt-e2e', summary: 'A short summary.', chapters: 1, questions: 1 } });

    const poster = await download(videoId, 'poster.jpg');
    expect(poster.type).toBe('image/jpeg');
    expect([...poster.body.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    const rendition = await download(videoId, 'video-360p.mp4');
    expect(rendition.body.toString('latin1', 4, 8)).toBe('ftyp');
    expect(JSON.parse((await download(videoId, 'text.json')).body.toString())).toMatchObject({ format: 'transcript', unit: 'time' });
    const videoGenerated = JSON.parse((await download(videoId, 'generated.json')).body.toString());
    expect(videoGenerated).toMatchObject({ source: { kind: 'video', unit: 'time' }, chapters: [{ start: 0 }] });

    const p = await processed(pdfId);
    expect(p.processing!.state, JSON.stringify(p.processing)).toBe('done');
    expect(p.processing!.jobs.video).toMatchObject({ state: 'skipped' });
    expect(p.processing!.jobs.documents.result).toMatchObject({ format: 'pdf', units: 2, metadata: { title: 'Biology notes' } });
    expect(p.processing!.jobs.documents.outputLocation).toBe(`file://${server.dataDir}/results/${pdfId}/`);
    const text = JSON.parse((await download(pdfId, 'text.json')).body.toString());
    expect(text.segments).toEqual([{ ref: 1, text: 'Week 1: cells.\nCells are the unit of life.' }, { ref: 2, text: 'Week 2: energy.\nMitochondria make ATP.' }]);
    expect(JSON.parse((await download(pdfId, 'generated.json')).body.toString())).toMatchObject({ source: { kind: 'documents', unit: 'page' }, chapters: [{ page: 1 }] });
    const listed = (await (await fetch(`${server.url}/api/uploads/${pdfId}/results`)).json()) as { files: Array<{ name: string }> };
    expect(listed.files.map((f) => f.name)).toEqual(['generated.json', 'text.json', 'text.txt']);

    // What the fake OpenAI saw: one transcription (3 s is one piece), one chat request per upload.
    expect(fake.of('transcriptions')).toHaveLength(1);
    expect(fake.of('transcriptions')[0].headers.authorization).toBe('Bearer sk-dummy');
    const chats = fake.of('chat');
    expect(chats).toHaveLength(2);
    expect(chats.map((c) => c.json!.model)).toEqual(['gpt-e2e', 'gpt-e2e']);
    const users = chats.map((c) => (c.json!.messages as Array<{ content: string }>)[1].content).sort();
    expect(users.some((u) => u.includes('[page 2] Week 2: energy.'))).toBe(true);
    expect(users.some((u) => u.includes('[time 0s] hello from the test tone (first half)'))).toBe(true);
  }, 120_000);

  it('a corrupt PDF ends failed with a reason, once', async () => {
    const id = await upload(Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(2000, 0x41)]), { filename: 'broken.pdf', filetype: 'application/pdf' });
    const info = await processed(id);
    expect(info.processing!.state).toBe('failed');
    expect(info.processing!.jobs.documents).toMatchObject({ state: 'failed', attempts: 1, reason: 'CORRUPT_FILE: not a readable PDF: Invalid PDF structure.' });
    expect(info.processing!.reason).toBe('documents: CORRUPT_FILE: not a readable PDF: Invalid PDF structure.');
    expect(info.processing!.jobs.generate.state).toBe('skipped');
  }, 60_000);
});
