import type ffmpeg from 'fluent-ffmpeg';
import { ProcessingError } from '../../errors.js';
import { ffprobe } from './ffmpeg.js';

export interface VideoStreamInfo {
  codec: string;
  profile?: string;
  width: number;
  height: number;
  /** Frames per second, rounded to 3 decimals. */
  fps?: number;
  pixelFormat?: string;
  bitrate?: number;
  /** Display rotation in degrees (0, 90, 180, 270). */
  rotation: number;
}

export interface AudioTrackInfo {
  index: number;
  codec: string;
  channels?: number;
  sampleRate?: number;
  bitrate?: number;
  language?: string;
}

/** What ffprobe says about an upload (stored as `metadata.json` and inline in the status). */
export interface VideoMetadata {
  /** ffprobe's `format_name`, e.g. `mov,mp4,m4a,3gp,3g2,mj2`. */
  container: string;
  durationSeconds: number;
  /** Overall bit rate in bit/s. */
  bitrate?: number;
  video: VideoStreamInfo | null;
  audioTracks: AudioTrackInfo[];
  /** Width and height as displayed (rotation applied). */
  display: { width: number; height: number } | null;
}

const num = (v: unknown): number | undefined => {
  const n = typeof v === 'string' ? Number(v) : (v as number);
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
};

function rate(r: string | undefined): number | undefined {
  const m = /^(\d+)\/(\d+)$/.exec(r ?? '');
  if (!m || Number(m[2]) === 0) return undefined;
  return Math.round((Number(m[1]) / Number(m[2])) * 1000) / 1000;
}

function rotationOf(stream: ffmpeg.FfprobeStream): number {
  const tag = num((stream.tags as Record<string, unknown> | undefined)?.rotate);
  const side = (stream as { side_data_list?: Array<{ rotation?: number }> }).side_data_list?.find((s) => typeof s.rotation === 'number')?.rotation;
  const deg = tag ?? side ?? 0;
  return ((Math.round(deg / 90) * 90) % 360 + 360) % 360;
}

/**
 * Probes `input` (path or URL). Fails permanently (`CORRUPT_FILE`) when ffprobe cannot read it or it
 * has neither a video nor an audio stream, or no duration.
 */
export async function probe(input: string, signal: AbortSignal): Promise<VideoMetadata> {
  const data = await ffprobe(input, signal);
  const videoStream = data.streams.find((s) => s.codec_type === 'video' && !(s.disposition as Record<string, number> | undefined)?.attached_pic);
  const audio = data.streams.filter((s) => s.codec_type === 'audio');
  const duration = num(data.format.duration) ?? num(videoStream?.duration) ?? num(audio[0]?.duration);
  if (!videoStream && audio.length === 0) throw new ProcessingError('CORRUPT_FILE', 'not a readable video: no video or audio stream');
  if (!duration || duration <= 0) throw new ProcessingError('CORRUPT_FILE', 'not a readable video: no duration');
  let video: VideoStreamInfo | null = null;
  if (videoStream) {
    video = {
      codec: videoStream.codec_name ?? 'unknown',
      profile: videoStream.profile === undefined ? undefined : String(videoStream.profile),
      width: num(videoStream.width) ?? 0,
      height: num(videoStream.height) ?? 0,
      fps: rate(videoStream.avg_frame_rate) ?? rate(videoStream.r_frame_rate),
      pixelFormat: videoStream.pix_fmt,
      bitrate: num(videoStream.bit_rate),
      rotation: rotationOf(videoStream),
    };
    if (!video.width || !video.height) throw new ProcessingError('CORRUPT_FILE', 'not a readable video: the video stream has no dimensions');
  }
  const swapped = video && (video.rotation === 90 || video.rotation === 270);
  return {
    container: data.format.format_name ?? 'unknown',
    durationSeconds: Math.round(duration * 1000) / 1000,
    bitrate: num(data.format.bit_rate),
    video,
    audioTracks: audio.map((s) => ({
      index: s.index,
      codec: s.codec_name ?? 'unknown',
      channels: num(s.channels),
      sampleRate: num(s.sample_rate),
      bitrate: num(s.bit_rate),
      language: (s.tags as Record<string, string> | undefined)?.language,
    })),
    display: video ? (swapped ? { width: video.height, height: video.width } : { width: video.width, height: video.height }) : null,
  };
}
