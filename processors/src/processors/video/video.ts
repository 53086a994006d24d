import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type OpenAI from 'openai';
import type { OpenAIConfig, VideoConfig } from '../../config/config.js';
import { notApplicable, ProcessingError } from '../../errors.js';
import type { UploadCompletedEvent } from '../../pipeline/event.js';
import type { ResultFile } from '../../results/types.js';
import type { UploadAccess } from '../../storage/access.js';
import type { RetryOptions } from '../generate/openai.js';
import { acceptsClass, contentClass, declaredClass, TIMED_MEDIA_CLASSES } from '../media-types.js';
import { plainText, TEXT_JSON, TEXT_TXT, type ExtractedText } from '../text.js';
import type { Processor, ProcessorContext, ProcessorResult, SniffedType } from '../types.js';
import { optionsOf } from '../../jobs/options.js';
import { runFfmpeg } from './ffmpeg.js';
import { probe, type VideoMetadata } from './probe.js';
import { transcribe } from './transcribe.js';

export const METADATA_JSON = 'metadata.json';
export const POSTER = 'poster.jpg';
export const frameName = (i: number) => `frame-${i + 1}.jpg`;
export const renditionName = (height: number) => `video-${height}p.mp4`;

/** Share of the job's progress per step. */
const WEIGHTS = { probe: 0.02, frames: 0.08, renditions: 0.6, transcript: 0.3 };

export interface VideoProcessorOptions {
  video: VideoConfig;
  openai: OpenAIConfig;
  /** Null without `OPENAI_API_KEY`: the transcript is then recorded as skipped. */
  client: OpenAI | null;
  access: UploadAccess;
  /** Where temporary files go (renditions, audio pieces); default the OS temp dir. */
  tmpDir?: string;
  retry?: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs' | 'maxRetryAfterMs' | 'guard'>;
}

/** The transcript step's outcome in the status result. */
export type TranscriptOutcome =
  | { state: 'done'; segments: number; chars: number; language?: string }
  | { state: 'skipped'; reason: string };

/**
 * Video (fluent-ffmpeg over the system ffmpeg): ffprobe metadata, a poster and preview frames, the
 * H.264/AAC MP4 ladder (`VIDEO_RENDITIONS`, never above the source height, `+faststart`), and the
 * transcript of the first audio track through the OpenAI audio API. Audio-only uploads (podcasts,
 * recordings: mp3, m4a, wav, flac, ogg…) get the metadata and the transcript. ffmpeg reads the upload by path
 * or presigned URL (never through this process's memory), with `FFMPEG_THREADS`, and is killed when
 * the job aborts. Each step stores its results and is skipped on a retry that finds them, so a job
 * retried for a transcription hiccup does not transcode again.
 */
export class VideoProcessor implements Processor {
  readonly kind = 'video';
  readonly wantsType = true;
  readonly concurrency: number;

  ownsResult(name: string): boolean {
    return name === METADATA_JSON || name === POSTER || name === TEXT_JSON || name === TEXT_TXT || /^frame-\d+\.jpg$/.test(name) || /^video-\d+p\.mp4$/.test(name);
  }

  constructor(private readonly options: VideoProcessorOptions) {
    this.concurrency = options.video.concurrency;
  }

  accepts(event: UploadCompletedEvent, sniffed?: SniffedType): boolean {
    return acceptsClass(event, sniffed, TIMED_MEDIA_CLASSES);
  }

  async run(event: UploadCompletedEvent, ctx: ProcessorContext): Promise<ProcessorResult> {
    if (ctx.sniffed && !TIMED_MEDIA_CLASSES.has(contentClass(event, ctx.sniffed))) {
      const declared = declaredClass(event);
      if (declared && TIMED_MEDIA_CLASSES.has(declared.cls)) throw new ProcessingError('MISLABELLED', `declared ${declared.declared}, but the content is ${ctx.sniffed.mime}`);
      throw notApplicable(`not a video or audio (${ctx.sniffed.mime})`);
    }
    // A processing request may ask for another ladder or frame count (jobs/options.ts).
    const requested = optionsOf(event, 'video');
    const settings = { renditions: requested.renditions ?? this.options.video.renditions, frames: requested.frames ?? this.options.video.previewFrames };
    const input = await this.options.access.mediaUrl(event.location);
    const work = await fsp.mkdtemp(path.join(this.options.tmpDir ?? os.tmpdir(), 'video-'));
    try {
      const meta = await probe(input, ctx.signal);
      await ctx.results.put(METADATA_JSON, Buffer.from(JSON.stringify(meta, null, 1)));
      ctx.progress(WEIGHTS.probe);
      const frames = await this.frames(input, meta, work, ctx, settings.frames);
      ctx.progress(WEIGHTS.probe + WEIGHTS.frames);
      const renditions = await this.renditions(input, meta, work, ctx, settings.renditions);
      const transcript = await this.transcript(input, meta, work, ctx);
      const files = (await ctx.results.list()).filter((f) => this.ownsResult(f.name));
      // Custom counters of the job history: seconds of video processed, renditions made.
      ctx.metric?.('video_seconds', meta.durationSeconds);
      ctx.metric?.('renditions', renditions.length);
      return {
        result: {
          metadata: meta,
          poster: frames.poster,
          frames: frames.previews,
          renditions,
          transcript,
          options: settings,
          files,
        },
        outputLocation: ctx.results.location(),
        outputSizeBytes: files.reduce((n, f) => n + f.size, 0),
      };
    } finally {
      await fsp.rm(work, { recursive: true, force: true });
    }
  }

  /** Poster (at 10 %, up to 1280 wide) and `VIDEO_PREVIEW_FRAMES` evenly spaced frames (320 wide). */
  private async frames(input: string, meta: VideoMetadata, work: string, ctx: ProcessorContext, count: number): Promise<{ poster: string | null; previews: string[] }> {
    if (!meta.video || !meta.display) return { poster: null, previews: [] };
    const wanted = [POSTER, ...Array.from({ length: count }, (_, i) => frameName(i))];
    const existing = await Promise.all(wanted.map((n) => ctx.results.head(n)));
    if (existing.every(Boolean)) return { poster: POSTER, previews: wanted.slice(1) };
    const d = meta.durationSeconds;
    const shots = [
      { name: POSTER, at: Math.min(d * 0.1, Math.max(0, d - 0.5)), width: Math.min(1280, meta.display.width) },
      ...Array.from({ length: count }, (_, i) => ({ name: frameName(i), at: (d * (i + 0.5)) / count, width: Math.min(320, meta.display!.width) })),
    ];
    for (const shot of shots) {
      const out = path.join(work, shot.name);
      // Fast seek before the input; a seek past the last decodable frame yields nothing: take the first frame then.
      for (const at of shot.at > 0 ? [shot.at, 0] : [0]) {
        await runFfmpeg(`frame at ${at.toFixed(2)} s`, input, (cmd) =>
          cmd.seekInput(at).output(out).outputOptions(['-frames:v', '1', '-vf', `scale=${even(shot.width)}:-2`, '-q:v', '3', '-an']),
        { signal: ctx.signal, threads: this.options.video.ffmpegThreads });
        if (await exists(out)) break;
      }
      if (!(await exists(out))) throw new ProcessingError('CORRUPT_FILE', `not a readable video: no frame could be decoded for ${shot.name}`);
      await ctx.results.put(shot.name, { file: out });
      await fsp.rm(out, { force: true });
    }
    return { poster: POSTER, previews: wanted.slice(1) };
  }

  /** The ladder: heights of `VIDEO_RENDITIONS` up to the source's (or one at the source's height when it is smaller than all). */
  private async renditions(input: string, meta: VideoMetadata, work: string, ctx: ProcessorContext, ladder: readonly number[]): Promise<ResultFile[]> {
    if (!meta.video || !meta.display || ladder.length === 0) return [];
    const source = even(meta.display.height);
    let heights = ladder.filter((h) => h <= source);
    if (heights.length === 0) heights = [source];
    const out: ResultFile[] = [];
    const base = WEIGHTS.probe + WEIGHTS.frames;
    for (const [i, height] of heights.entries()) {
      const name = renditionName(height);
      const found = await ctx.results.head(name);
      if (found) {
        out.push(found);
        continue;
      }
      const file = path.join(work, name);
      await runFfmpeg(`rendition ${height}p`, input, (cmd) =>
        cmd.output(file).outputOptions([
          '-map', '0:v:0', '-map', '0:a:0?',
          '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-profile:v', 'high', '-pix_fmt', 'yuv420p',
          '-vf', `scale=-2:${height}`,
          '-c:a', 'aac', '-b:a', '128k', '-ac', '2',
          '-movflags', '+faststart', '-f', 'mp4',
        ]),
      {
        signal: ctx.signal,
        threads: this.options.video.ffmpegThreads,
        durationSeconds: meta.durationSeconds,
        onProgress: (f) => ctx.progress(base + (WEIGHTS.renditions * (i + f)) / heights.length),
      });
      out.push(await ctx.results.put(name, { file }));
      await fsp.rm(file, { force: true });
    }
    return out;
  }

  private async transcript(input: string, meta: VideoMetadata, work: string, ctx: ProcessorContext): Promise<TranscriptOutcome> {
    if (meta.audioTracks.length === 0) return { state: 'skipped', reason: 'no audio track' };
    const client = this.options.client;
    if (!client) return { state: 'skipped', reason: 'OPENAI_API_KEY is not set' };
    const stored = await ctx.results.read(TEXT_JSON);
    let text: ExtractedText;
    if (stored) {
      text = JSON.parse(stored.toString('utf8')) as ExtractedText;
    } else {
      const audioDir = await fsp.mkdtemp(path.join(work, 'audio-'));
      const base = 1 - WEIGHTS.transcript;
      text = await transcribe(input, meta.durationSeconds, audioDir, {
        client,
        config: this.options.openai,
        chunkSeconds: this.options.video.transcribeChunkSeconds,
        threads: this.options.video.ffmpegThreads,
        signal: ctx.signal,
        logger: ctx.logger,
        retry: this.options.retry,
        onProgress: (f) => ctx.progress(base + WEIGHTS.transcript * f),
      });
      text.media = meta.video ? 'video' : 'audio';
      await ctx.results.put(TEXT_TXT, Buffer.from(plainText(text)));
      await ctx.results.put(TEXT_JSON, Buffer.from(JSON.stringify(text)));
    }
    return { state: 'done', segments: text.segments.length, chars: text.chars, ...(text.language ? { language: text.language } : {}) };
  }
}

const even = (n: number) => Math.max(2, Math.floor(n / 2) * 2);

async function exists(file: string): Promise<boolean> {
  try {
    return (await fsp.stat(file)).size > 0;
  } catch {
    return false;
  }
}
