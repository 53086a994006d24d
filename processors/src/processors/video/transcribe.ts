import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type OpenAI from 'openai';
import type { OpenAIConfig } from '../../config/config.js';
import { ProcessingError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { openaiSdk, withRetries, type RetryOptions } from '../generate/openai.js';
import type { ExtractedText, TextSegment } from '../text.js';
import { ffprobe, runFfmpeg } from './ffmpeg.js';

/** The audio API takes files up to 25 MB; at 48 kbit/s mono one hour is about 21 MB. */
export const AUDIO_BITRATE = '48k';
/** Pieces shorter than this are not sent (the audio API refuses audio under 0.1 s). */
export const MIN_PIECE_SECONDS = 0.25;

export interface TranscribeOptions {
  client: OpenAI;
  config: OpenAIConfig;
  /** Pieces of at most this many seconds are sent, one request each. */
  chunkSeconds: number;
  threads: number;
  signal: AbortSignal;
  logger: Logger;
  retry?: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs' | 'maxRetryAfterMs' | 'guard'>;
  onProgress(fraction: number): void;
}

/**
 * Extracts the first audio track as mono 16 kHz MP3 pieces of at most `chunkSeconds` (ffmpeg's segment
 * muxer, into `workDir`), and transcribes each through `/v1/audio/transcriptions`. `whisper-*` models
 * answer `verbose_json` with timed segments; other models `json` (one segment per piece). Segment times
 * are shifted by the measured duration of the pieces before them.
 */
export async function transcribe(input: string, durationSeconds: number, workDir: string, options: TranscribeOptions): Promise<ExtractedText> {
  const { signal } = options;
  await runFfmpeg(
    'audio extraction',
    input,
    (cmd) =>
      cmd
        .output(path.join(workDir, 'audio-%04d.mp3'))
        .outputOptions(['-map', '0:a:0', '-vn', '-ac', '1', '-ar', '16000', '-c:a', 'libmp3lame', '-b:a', AUDIO_BITRATE,
          '-f', 'segment', '-segment_time', String(options.chunkSeconds), '-reset_timestamps', '1']),
    { signal, threads: options.threads, durationSeconds, onProgress: (f) => options.onProgress(f * 0.2) },
  );
  const pieces = (await fsp.readdir(workDir)).filter((n) => /^audio-\d{4}\.mp3$/.test(n)).sort();
  if (pieces.length === 0) throw new ProcessingError('CORRUPT_FILE', 'audio extraction produced no audio');
  const verbose = options.config.transcribeModel.startsWith('whisper');
  const segments: TextSegment[] = [];
  let offset = 0;
  let language: string | undefined;
  for (const [i, name] of pieces.entries()) {
    const file = path.join(workDir, name);
    const length = Number((await ffprobe(file, signal)).format.duration ?? 0) || options.chunkSeconds;
    // The segment muxer may leave a sliver at the end; the API refuses audio under 0.1 s.
    if (length < MIN_PIECE_SECONDS) {
      offset += length;
      continue;
    }
    const answer = await withRetries(
      `transcription of ${name}`,
      async (s) =>
        options.client.audio.transcriptions.create(
          {
            file: await openaiSdk().toFile(fs.createReadStream(file), name, { type: 'audio/mpeg' }),
            model: options.config.transcribeModel,
            response_format: verbose ? 'verbose_json' : 'json',
            ...(verbose ? { timestamp_granularities: ['segment' as const] } : {}),
          },
          { signal: s },
        ),
      { maxRetries: options.config.maxRetries, signal, logger: options.logger, ...options.retry },
    );
    const result = answer as { text?: unknown; language?: string; segments?: Array<{ start: number; end: number; text: string }> };
    if (typeof result?.text !== 'string') throw new ProcessingError('OPENAI_UNAVAILABLE', `transcription of ${name}: the answer has no text`);
    language ??= result.language;
    if (Array.isArray(result.segments) && result.segments.length > 0) {
      for (const s of result.segments) {
        const text = String(s.text ?? '').trim();
        if (text) segments.push({ start: round(offset + Number(s.start)), end: round(offset + Number(s.end)), text });
      }
    } else if (result.text.trim()) {
      segments.push({ start: round(offset), end: round(offset + length), text: result.text.trim() });
    }
    offset += length;
    options.onProgress(0.2 + (0.8 * (i + 1)) / pieces.length);
  }
  const transcript: ExtractedText = {
    version: 1,
    source: 'video',
    format: 'transcript',
    unit: 'time',
    segments,
    chars: segments.reduce((n, s) => n + s.text.length, 0),
    truncated: false,
    durationSeconds,
    ...(language ? { language } : {}),
  };
  return transcript;
}

const round = (n: number) => Math.round(n * 100) / 100;
