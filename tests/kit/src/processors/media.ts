/** Test videos generated with ffmpeg's lavfi sources (a test pattern and a sine tone); nothing is downloaded. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestVideoOptions {
  seconds?: number;
  width?: number;
  height?: number;
  /** Add a sine tone as an AAC track (default true). */
  audio?: boolean;
  /** Put the index (moov) first (default false: at the end, as most cameras write it). */
  faststart?: boolean;
}

/** Writes an H.264 MP4 of `seconds` (default 3) at `width`x`height` (default 640x360) to `file`. */
export async function makeVideo(file: string, options: TestVideoOptions = {}): Promise<void> {
  const { seconds = 3, width = 640, height = 360, audio = true, faststart = false } = options;
  const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=15:duration=${seconds}`];
  if (audio) args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${seconds}`);
  args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-threads', '2');
  if (audio) args.push('-c:a', 'aac', '-b:a', '64k', '-shortest');
  if (faststart) args.push('-movflags', '+faststart');
  args.push(file);
  await run('ffmpeg', args, { timeout: 60_000 });
}

/** An audio-only file of a sine tone; the codec follows the extension (`.mp3`: MP3, `.m4a`: AAC, `.wav`: PCM). */
export async function makeAudio(file: string, seconds = 3): Promise<void> {
  const codec = file.endsWith('.mp3') ? ['-c:a', 'libmp3lame', '-b:a', '64k'] : file.endsWith('.m4a') ? ['-c:a', 'aac', '-b:a', '64k'] : [];
  await run('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${seconds}`, ...codec, file], { timeout: 60_000 });
}

/** ffprobe's JSON for `file` (streams and format). */
export async function probeJson(file: string): Promise<{ streams: Array<Record<string, unknown>>; format: Record<string, unknown> }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', file], { timeout: 30_000 });
  return JSON.parse(stdout);
}

/** Top-level box types of an MP4, in order (`ftyp`, `moov`, `mdat`…). */
export function topLevelBoxes(mp4: Buffer): string[] {
  const boxes: string[] = [];
  for (let at = 0; at + 8 <= mp4.length; ) {
    let size = mp4.readUInt32BE(at);
    const type = mp4.toString('latin1', at + 4, at + 8);
    if (size === 1) size = Number(mp4.readBigUInt64BE(at + 8));
    if (size === 0) size = mp4.length - at;
    boxes.push(type);
    if (size < 8) break;
    at += size;
  }
  return boxes;
}

/** True when ffmpeg and ffprobe are on the PATH. */
export async function haveFfmpeg(): Promise<boolean> {
  try {
    await run('ffmpeg', ['-version']);
    await run('ffprobe', ['-version']);
    return true;
  } catch {
    return false;
  }
}
