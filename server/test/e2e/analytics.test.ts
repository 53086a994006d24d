/**
 * The analytics acceptance contract (issue 15) on the embedded default, as `npm start` runs it (the
 * compiled server in its own process, processors in-process): after a video and a PDF are processed,
 * `GET /api/analytics/processing?groupBy=kind` reports a finished job for `video` and for `documents`
 * with a duration; the generation endpoint shows the fake OpenAI's model and tokens, usage the two
 * uploads. OpenAI is a local fake server.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import * as tus from 'tus-js-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePdf, makeVideo, startFakeOpenAI, type FakeOpenAI } from '@tus-edge/testkit';
import { spawnServer, tempDir, type SpawnedServer } from '../harness.js';

interface Group {
  key: string; jobs: number; done: number; failed: number; failureRate: number;
  durationMs: { p50: number; p95: number; p99: number } | null;
  queueWaitMs: { p50: number; p95: number; p99: number } | null;
  series?: Array<{ start: string; jobs: number; failed: number; p50Ms: number | null; p95Ms: number | null }>;
}

let server: SpawnedServer;
let fake: FakeOpenAI;
let work: string;
beforeAll(async () => {
  work = await tempDir('analytics-e2e-');
  fake = await startFakeOpenAI();
  server = await spawnServer({ OPENAI_API_KEY: 'sk-dummy', OPENAI_BASE_URL: fake.baseURL, OPENAI_MODEL: 'gpt-analytics', VIDEO_PREVIEW_FRAMES: '1', FFMPEG_THREADS: '1' });
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
      endpoint: server.tusUrl, metadata, chunkSize: 1024 * 1024, retryDelays: [0, 500], onError: reject,
      onSuccess: () => resolve(new URL(u.url!).pathname.split('/').pop()!),
    });
    u.start();
  });
}

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not in time: ${JSON.stringify(value)}\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const get = async (p: string) => {
  const res = await fetch(`${server.url}${p}`);
  return { status: res.status, body: (await res.json()) as any };
};

describe('analytics on the embedded default', () => {
  it('a processed video and PDF: processing by kind with durations, generation by model, usage per day', async () => {
    const videoFile = path.join(work, 'clip.mp4');
    await makeVideo(videoFile, { seconds: 2 });
    const pdf = makePdf(['Week 1: cells.', 'Week 2: energy.'], { Title: 'Notes' });
    const [videoId, pdfId] = await Promise.all([
      upload(await fsp.readFile(videoFile), { filename: 'clip.mp4', filetype: 'video/mp4' }),
      upload(pdf, { filename: 'notes.pdf', filetype: 'application/pdf' }),
    ]);
    expect(videoId).not.toBe(pdfId);

    // The acceptance contract, exactly: a finished job for video and for documents, with a duration.
    const byKind = await until('processing by kind', async () => (await get('/api/analytics/processing?groupBy=kind')).body as { groups: Group[] }, (r) =>
      ['video', 'documents', 'generate'].every((k) => r.groups.some((g) => g.key === k && g.done >= 1)) && r.groups.filter((g) => g.key === 'generate')[0]!.done >= 2);
    for (const kind of ['video', 'documents']) {
      const g = byKind.groups.find((x) => x.key === kind)!;
      expect(g).toMatchObject({ jobs: 1, done: 1, failed: 0, failureRate: 0 });
      expect(g.durationMs!.p50).toBeGreaterThan(0);
      expect(g.durationMs!.p99).toBeGreaterThanOrEqual(g.durationMs!.p50);
      expect(g.queueWaitMs!.p50).toBeGreaterThanOrEqual(0);
      expect(g.series).toBeUndefined();
    }

    const res = await get('/api/analytics/processing?groupBy=mediaType&interval=1h');
    expect(res.status).toBe(200);
    const types = Object.fromEntries((res.body.groups as Group[]).map((g) => [g.key, g]));
    expect(types['video/mp4']).toBeDefined();
    expect(types['application/pdf']).toBeDefined();
    expect(types['application/pdf']!.series).toEqual([expect.objectContaining({ jobs: types['application/pdf']!.jobs, failed: 0 })]);
    expect(res.body.series).toBeUndefined();

    // Generation: both uploads' generate jobs were answered by the fake, which names its model
    // `fake-model` and reports 10 + 10 tokens per completion.
    const gen = (await get('/api/analytics/generation')).body;
    const model = gen.models.find((m: { model: string }) => m.model === 'fake-model');
    expect(model, JSON.stringify(gen)).toBeDefined();
    expect(model.requests).toBe(2);
    expect(model.failures).toBe(0);
    expect(model.promptTokens).toBe(10 * fake.of('chat').length);
    expect(model.completionTokens).toBe(10 * fake.of('chat').length);
    expect(model.latencyMs.p50).toBeGreaterThan(0);

    const usage = await until('usage', async () => (await get('/api/analytics/usage')).body, (u) => u.days.length === 1 && u.days[0].uploads === 2);
    expect(usage.days[0]).toMatchObject({ uploads: 2, abandoned: 0 });
    expect(usage.days[0].bytes).toBeGreaterThan(pdf.length);

    // Bad queries answer from the error catalogue; owner filters are the operator's.
    expect((await get('/api/analytics/processing?groupBy=size')).body.error.code).toBe('INVALID_QUERY');
    expect((await get('/api/analytics/processing?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z')).status).toBe(400);
    expect(await get('/api/analytics/usage?owner=someone')).toMatchObject({ status: 403, body: { error: { code: 'OPERATOR_REQUIRED' } } });
    const doc = (await get('/api/openapi.json')).body;
    for (const p of ['/api/analytics/processing', '/api/analytics/generation', '/api/analytics/usage']) expect(doc.paths[p]?.get, p).toBeDefined();
  }, 180_000);
});
