import type ffmpeg from 'fluent-ffmpeg';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { ProcessingError } from '../../errors.js';
import { inSpan } from '../../tracing/spans.js';

// fluent-ffmpeg is loaded with the first video, not by every process that imports the runtime.
const require = createRequire(import.meta.url);
const fluent = (): typeof ffmpeg => require('fluent-ffmpeg') as typeof ffmpeg;

/** Signs that ffmpeg/ffprobe could not make sense of the input: the file is broken, not the machine. */
const CORRUPT_INPUT = /Invalid data found when processing input|moov atom not found|could not find codec parameters|Invalid NAL unit|error reading header|EBML header parsing failed|Truncating packet|End of file|Failed to read frame size|no frame!/i;
const MISSING_INPUT = /No such file or directory|Server returned 404/i;

/** The last meaningful stderr lines (ffmpeg ends with the reason). */
function tail(stderr: string | undefined, lines = 3): string {
  return (stderr ?? '').split('\n').map((l) => l.trim()).filter(Boolean).slice(-lines).join(' | ').slice(0, 400);
}

/** Maps an ffmpeg/ffprobe failure to the catalogue: corrupt input is permanent, the rest is retried. */
export function ffmpegError(what: string, err: unknown, stderr?: string): ProcessingError {
  const message = `${(err as Error)?.message ?? String(err)}\n${stderr ?? ''}`;
  const detail = tail(stderr) || tail((err as Error)?.message);
  if (MISSING_INPUT.test(message)) return new ProcessingError('OBJECT_NOT_FOUND', `${what}: ${detail}`, { cause: err });
  if (CORRUPT_INPUT.test(message)) return new ProcessingError('CORRUPT_FILE', `${what}: not a readable video (${detail})`, { cause: err });
  return new ProcessingError('INTERNAL', `${what} failed: ${detail}`, { cause: err });
}

/** Input options for a path or a presigned URL (a stalled HTTP read fails after 30 s instead of hanging). */
export function inputOptions(input: string): string[] {
  return /^https?:\/\//.test(input) ? ['-rw_timeout', '30000000'] : [];
}

export interface RunOptions {
  signal: AbortSignal;
  /** `-threads` (0: ffmpeg decides). */
  threads: number;
  /** Media duration, to turn ffmpeg's time mark into a fraction. */
  durationSeconds?: number;
  onProgress?(fraction: number): void;
}

const seconds = (timemark: string) => {
  const m = /^(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(timemark ?? '');
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : NaN;
};

/**
 * Runs one ffmpeg command built by `build` (fluent-ffmpeg) on `input`: adds the thread limit, reports
 * progress, kills ffmpeg (SIGKILL) when `signal` aborts, and maps failures with {@link ffmpegError}.
 */
export function runFfmpeg(what: string, input: string, build: (cmd: ffmpeg.FfmpegCommand) => ffmpeg.FfmpegCommand, options: RunOptions): Promise<void> {
  return inSpan(`ffmpeg ${what.split(' ')[0]}`, { attributes: { 'ffmpeg.step': what, 'ffmpeg.threads': options.threads } }, () => spawnFfmpeg(what, input, build, options));
}

function spawnFfmpeg(what: string, input: string, build: (cmd: ffmpeg.FfmpegCommand) => ffmpeg.FfmpegCommand, options: RunOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (options.signal.aborted) return reject(options.signal.reason);
    const cmd = build(fluent()(input, { stdoutLines: 0 }).inputOptions(['-nostdin', '-hide_banner', ...inputOptions(input)]));
    cmd.addOutputOptions(['-threads', String(options.threads), '-y']);
    const onAbort = () => {
      cmd.kill('SIGKILL');
      reject(options.signal.reason);
    };
    options.signal.addEventListener('abort', onAbort, { once: true });
    const done = () => options.signal.removeEventListener('abort', onAbort);
    cmd.on('progress', (p: { timemark: string }) => {
      const at = seconds(p.timemark);
      if (options.onProgress && options.durationSeconds && Number.isFinite(at)) options.onProgress(Math.min(1, Math.max(0, at / options.durationSeconds)));
    });
    cmd.on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
      done();
      if (options.signal.aborted) return reject(options.signal.reason);
      reject(ffmpegError(what, err, stderr ?? undefined));
    });
    cmd.on('end', () => {
      done();
      resolve();
    });
    cmd.run();
  });
}

/**
 * `ffprobe -print_format json -show_format -show_streams`; resolves the parsed JSON or rejects with
 * {@link ffmpegError}. Spawned here rather than through fluent-ffmpeg, which keeps the child to itself:
 * when `signal` aborts, the ffprobe is killed (SIGKILL), not left reading a large input.
 */
export function ffprobe(input: string, signal: AbortSignal): Promise<ffmpeg.FfprobeData> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const args = ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', ...inputOptions(input), input];
    const child = spawn('ffprobe', args, { signal, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8192)));
    child.once('error', (err) => reject(signal.aborted ? signal.reason : ffmpegError('ffprobe', err, stderr)));
    child.once('close', (code) => {
      if (signal.aborted) return reject(signal.reason);
      if (code !== 0) return reject(ffmpegError('ffprobe', new Error(`ffprobe exited with code ${code}`), stderr));
      try {
        const data = JSON.parse(Buffer.concat(out).toString('utf8')) as Partial<ffmpeg.FfprobeData>;
        resolve({ streams: data.streams ?? [], format: data.format ?? {}, chapters: data.chapters ?? [] } as ffmpeg.FfprobeData);
      } catch (err) {
        reject(ffmpegError('ffprobe', err, stderr));
      }
    });
  });
}
