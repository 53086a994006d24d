/**
 * The video processor with the real ffmpeg on media generated in the test (lavfi test pattern and a
 * sine tone), and the OpenAI audio API played by a local fake server.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type ProcessorsConfig } from '../../config/config.js';
import type { RawEnv } from '../../config/config.js';
import { ProcessingError } from '../../errors.js';
import { FileResultStore } from '../../results/file.js';
import { createUploadAccess } from '../../storage/access.js';
import { testContext } from '@tus-edge/testkit';
import { startFakeOpenAI, transcriptionAnswer, type FakeOpenAI } from '@tus-edge/testkit';
import { makeEvent } from '@tus-edge/testkit';
import { makeAudio, makeVideo, probeJson, topLevelBoxes } from '@tus-edge/testkit';
import { tempDir } from '@tus-edge/testkit';
import { createOpenAI } from '../generate/openai.js';
import { sniff } from '../sniff.js';
import type { ExtractedText } from '../text.js';
import { VideoProcessor } from './video.js';

let dir: string;
let fake: FakeOpenAI;
let store: FileResultStore;
let withAudio: string;
let silent: string;
beforeAll(async () => {
  dir = await tempDir();
  fake = await startFakeOpenAI();
  store = new FileResultStore(path.join(dir, 'results'));
  withAudio = path.join(dir, 'talk.mp4');
  silent = path.join(dir, 'silent.mp4');
  await Promise.all([makeVideo(withAudio, { seconds: 3 }), makeVideo(silent, { seconds: 2, width: 320, height: 180, audio: false })]);
}, 60_000);
afterAll(async () => {
  await fake?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

function processorFor(env: RawEnv = {}): { processor: VideoProcessor; config: ProcessorsConfig } {
  const config = parseConfig({ VIDEO_PREVIEW_FRAMES: '2', FFMPEG_THREADS: '1', OPENAI_BASE_URL: fake.baseURL, OPENAI_API_KEY: 'sk-test', ...env });
  const processor = new VideoProcessor({
    video: config.video, openai: config.openai, client: createOpenAI(config.openai), access: createUploadAccess(undefined), tmpDir: dir,
    retry: { baseDelayMs: 10 },
  });
  return { processor, config };
}

async function eventFor(file: string, metadata: Record<string, string> = { filetype: 'video/mp4', filename: 'talk.mp4' }) {
  const { size } = await fs.stat(file);
  const head = Buffer.alloc(Math.min(size, 65536));
  const fh = await fs.open(file, 'r');
  await fh.read(head, 0, head.length, 0);
  await fh.close();
  return { event: makeEvent({ size, filePath: file, metadata }), sniffed: sniff(head) };
}

const isJpeg = (b: Buffer | null) => !!b && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

describe('VideoProcessor', () => {
  it('probes, takes a poster and frames, renders the H.264/AAC faststart MP4, transcribes in pieces', async () => {
    const { processor } = processorFor({ TRANSCRIBE_CHUNK_DURATION: '1s' });
    const { event, sniffed } = await eventFor(withAudio);
    expect(processor.accepts(event, sniffed)).toBe(true);
    fake.script('transcriptions', (_req, n) => transcriptionAnswer(`piece ${n + 1}`, 1));
    const ctx = testContext(event, store, { sniffed });
    const out = await processor.run(event, ctx);
    const result = out.result as Record<string, any>;

    expect(result.metadata).toMatchObject({
      container: expect.stringContaining('mp4'),
      video: { codec: 'h264', width: 640, height: 360, fps: 15, rotation: 0 },
      audioTracks: [{ codec: 'aac', channels: 1, sampleRate: 44100 }],
      display: { width: 640, height: 360 },
    });
    expect(result.metadata.durationSeconds).toBeGreaterThan(2.9);
    expect(result.poster).toBe('poster.jpg');
    expect(result.frames).toEqual(['frame-1.jpg', 'frame-2.jpg']);
    for (const name of ['poster.jpg', 'frame-1.jpg', 'frame-2.jpg']) expect(isJpeg(await ctx.results.read(name))).toBe(true);
    expect(JSON.parse((await ctx.results.read('metadata.json'))!.toString())).toEqual(result.metadata);

    // The ladder is 720p by default; the source is 360p: never upscaled.
    expect(result.renditions).toEqual([{ name: 'video-360p.mp4', contentType: 'video/mp4', size: expect.any(Number) }]);
    const mp4 = path.join(dir, 'out.mp4');
    await fs.writeFile(mp4, (await ctx.results.read('video-360p.mp4'))!);
    const probed = await probeJson(mp4);
    expect(probed.streams.map((s) => [s.codec_type, s.codec_name])).toEqual([['video', 'h264'], ['audio', 'aac']]);
    expect(probed.streams[0]).toMatchObject({ height: 360, width: 640, pix_fmt: 'yuv420p' });
    const boxes = topLevelBoxes(await fs.readFile(mp4));
    expect(boxes.indexOf('moov')).toBeGreaterThan(-1);
    expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat')); // faststart

    // One-second pieces (a sliver at the end is not sent), one request each, as the SDK sends them.
    const requests = fake.of('transcriptions');
    expect(requests).toHaveLength(3);
    for (const [i, r] of requests.entries()) {
      expect(r.method).toBe('POST');
      expect(r.headers.authorization).toBe('Bearer sk-test');
      expect(r.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
      expect(r.fields).toEqual({ model: ['whisper-1'], response_format: ['verbose_json'], 'timestamp_granularities[]': ['segment'] });
      expect(r.file).toMatchObject({ name: `audio-000${i}.mp3`, type: 'audio/mpeg' });
      expect(r.file!.size).toBeGreaterThan(1000);
      expect(r.file!.size).toBeLessThan(25 * 1024 * 1024);
    }
    const text = JSON.parse((await ctx.results.read('text.json'))!.toString()) as ExtractedText;
    expect(text).toMatchObject({ source: 'video', format: 'transcript', unit: 'time', language: 'english', truncated: false });
    expect(text.segments.map((s) => s.text)).toEqual(['piece 1 (first half)', 'piece 1 (second half)', 'piece 2 (first half)', 'piece 2 (second half)', 'piece 3 (first half)', 'piece 3 (second half)']);
    // Times are shifted by the pieces before: strictly increasing, inside the video.
    const starts = text.segments.map((s) => s.start!);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect(starts[2]).toBeGreaterThanOrEqual(0.9);
    expect(starts[4]).toBeGreaterThanOrEqual(1.9);
    expect(result.transcript).toEqual({ state: 'done', segments: 6, chars: expect.any(Number), language: 'english' });
    expect((await ctx.results.read('text.txt'))!.toString()).toContain('piece 3 (second half)');

    expect(result.files.map((f: { name: string }) => f.name)).toEqual(['frame-1.jpg', 'frame-2.jpg', 'metadata.json', 'poster.jpg', 'text.json', 'text.txt', 'video-360p.mp4']);
    expect(out.outputLocation).toBe(ctx.results.location());
    expect(ctx.progressed.length).toBeGreaterThan(3);
    expect(Math.max(...ctx.progressed)).toBeGreaterThan(0.9);

    // A retry finds the stored steps and does not transcode or transcribe again.
    const before = (await fs.stat(path.join(dir, 'results', event.uploadId, 'video-360p.mp4'))).mtimeMs;
    const again = await processor.run(event, testContext(event, store, { sniffed, attempt: 2 }));
    expect((again.result as Record<string, any>).transcript.state).toBe('done');
    expect(fake.of('transcriptions')).toHaveLength(3);
    expect((await fs.stat(path.join(dir, 'results', event.uploadId, 'video-360p.mp4'))).mtimeMs).toBe(before);
  });

  it('follows the configured ladder without upscaling; no audio → no transcript; no key → transcript skipped', async () => {
    const { event, sniffed } = await eventFor(silent); // 320x180, no audio
    const ladder = processorFor({ VIDEO_RENDITIONS: '720p,240p,144p', VIDEO_PREVIEW_FRAMES: '0', OPENAI_API_KEY: '' }).processor;
    const ctx = testContext(event, store, { sniffed });
    const result = (await ladder.run(event, ctx)).result as Record<string, any>;
    expect(result.renditions.map((r: { name: string }) => r.name)).toEqual(['video-144p.mp4']);
    expect(result.frames).toEqual([]);
    expect(result.metadata.audioTracks).toEqual([]);
    expect(result.transcript).toEqual({ state: 'skipped', reason: 'no audio track' });
    const probed = await probeJson(path.join(dir, 'results', event.uploadId, 'video-144p.mp4'));
    expect(probed.streams.map((s) => s.codec_type)).toEqual(['video']);
    expect(probed.streams[0]).toMatchObject({ height: 144, width: 256 });

    // Every rung above the source: one rendition at the source height.
    const above = processorFor({ VIDEO_RENDITIONS: '720p,480p', VIDEO_PREVIEW_FRAMES: '0', OPENAI_API_KEY: '' }).processor;
    const other = await eventFor(silent);
    const r1 = (await above.run(other.event, testContext(other.event, store, { sniffed: other.sniffed }))).result as Record<string, any>;
    expect(r1.renditions.map((r: { name: string }) => r.name)).toEqual(['video-180p.mp4']);

    const noKey = processorFor({ OPENAI_API_KEY: '', VIDEO_RENDITIONS: 'none', VIDEO_PREVIEW_FRAMES: '0' }).processor;
    const talk = await eventFor(withAudio);
    const r2 = (await noKey.run(talk.event, testContext(talk.event, store, { sniffed: talk.sniffed }))).result as Record<string, any>;
    expect(r2.transcript).toEqual({ state: 'skipped', reason: 'OPENAI_API_KEY is not set' });
    expect(r2.renditions).toEqual([]);
  });

  it('audio-only uploads (mp3, m4a): metadata and transcript, no pictures', async () => {
    const { processor } = processorFor({ TRANSCRIBE_CHUNK_DURATION: '10s' });
    for (const name of ['podcast.mp3', 'memo.m4a']) {
      const file = path.join(dir, name);
      await makeAudio(file, 2);
      const { event, sniffed } = await eventFor(file, { filename: name });
      expect(sniffed.mime).toMatch(/^audio\//);
      expect(processor.accepts(event, sniffed), name).toBe(true);
      const before = fake.of('transcriptions').length;
      fake.script('transcriptions', () => transcriptionAnswer(`spoken words of ${name}`, 2));
      const ctx = testContext(event, store, { sniffed });
      const result = (await processor.run(event, ctx)).result as Record<string, any>;
      expect(result.metadata, name).toMatchObject({ video: null, audioTracks: [{ codec: name.endsWith('.mp3') ? 'mp3' : 'aac', channels: 1, sampleRate: 44100 }] });
      expect(result.metadata.durationSeconds).toBeGreaterThan(1.9);
      expect(result).toMatchObject({ poster: null, frames: [], renditions: [], transcript: { state: 'done', segments: 2 } });
      expect(fake.of('transcriptions')).toHaveLength(before + 1);
      const text = JSON.parse((await ctx.results.read('text.json'))!.toString()) as ExtractedText;
      expect(text).toMatchObject({ source: 'video', format: 'transcript', unit: 'time', media: 'audio' });
      expect(text.segments.map((s) => s.text).join(' ')).toContain(`spoken words of ${name}`);
      expect(result.files.map((f: { name: string }) => f.name)).toEqual(['metadata.json', 'text.json', 'text.txt']);
    }
  });

  it('corrupt, truncated and mislabelled files fail permanently with a reason', async () => {
    const { processor } = processorFor({ VIDEO_RENDITIONS: 'none' });
    const whole = await fs.readFile(withAudio);
    const cases: Array<[string, Buffer, Record<string, string>, string, RegExp]> = [
      ['truncated (index at the end, cut off)', whole.subarray(0, Math.floor(whole.length / 2)), { filetype: 'video/mp4' }, 'CORRUPT_FILE', /not a readable video \(.*moov atom not found/],
      ['garbage after an MP4 signature', Buffer.concat([whole.subarray(0, 32), Buffer.alloc(50_000, 0x5a)]), { filetype: 'video/mp4' }, 'CORRUPT_FILE', /not a readable video/],
      ['text declared as a video', Buffer.from('just some notes\n'.repeat(100)), { filetype: 'video/mp4', filename: 'clip.mp4' }, 'MISLABELLED', /^declared video\/mp4, but the content is text\/plain$/],
    ];
    for (const [what, data, metadata, code, reason] of cases) {
      const file = path.join(dir, `bad-${code}-${data.length}.mp4`);
      await fs.writeFile(file, data);
      const { event, sniffed } = await eventFor(file, metadata);
      expect(processor.accepts(event, sniffed), what).toBe(true);
      const err = await processor.run(event, testContext(event, store, { sniffed })).then(() => null, (e: unknown) => e);
      expect(err, what).toBeInstanceOf(ProcessingError);
      expect((err as ProcessingError).code, what).toBe(code);
      expect((err as ProcessingError).retryable, what).toBe(false);
      expect((err as ProcessingError).message, what).toMatch(reason);
    }
  });

  it('stops ffmpeg when the job is aborted (timeout or shutdown), and leaves no temporary files', async () => {
    const long = path.join(dir, 'long.mp4');
    await makeVideo(long, { seconds: 20, width: 1280, height: 720, audio: false });
    const { processor } = processorFor({ VIDEO_PREVIEW_FRAMES: '0', OPENAI_API_KEY: '' });
    const { event, sniffed } = await eventFor(long);
    const ctx = testContext(event, store, { sniffed });
    const started = Date.now();
    const running = processor.run(event, ctx).then(() => null, (e: unknown) => e);
    await new Promise((r) => setTimeout(r, 700));
    ctx.controller.abort(new ProcessingError('TIMEOUT'));
    const err = await running;
    expect(err).toMatchObject({ code: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(5000);
    // No ffmpeg is left working on this input.
    await new Promise((r) => setTimeout(r, 200));
    const alive: string[] = [];
    for (const pid of (await fs.readdir('/proc')).filter((n) => /^\d+$/.test(n))) {
      const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (cmdline.includes(long)) alive.push(cmdline.replace(/\0/g, ' '));
    }
    expect(alive).toEqual([]);
    expect((await fs.readdir(dir)).filter((n) => n.startsWith('video-'))).toEqual([]);
    expect(await ctx.results.head('video-720p.mp4')).toBeNull();
  }, 60_000);
});
