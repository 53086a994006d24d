import type * as tus from 'tus-js-client';
import type { TokenSource } from './auth.js';
import { TusEdgeError, toTusEdgeError } from './errors.js';
import { ProgressMeter, type Progress } from './progress.js';
import { retryDecision, type RetryPolicy } from './retry.js';

/**
 * A Node readable stream, typed structurally so browsers need no Node types.
 * @example
 * client.upload(fs.createReadStream('talk.mp4'), { size: (await fs.promises.stat('talk.mp4')).size });
 */
export interface ReadableStreamLike {
  on(event: string, listener: (...args: any[]) => void): unknown;
  pipe(destination: any): unknown;
}

/**
 * What can be uploaded: a `File`/`Blob` in browsers; a `Uint8Array`/`Buffer` or a readable stream (with `size`) in Node
 * (tus-js-client's Node build cannot read a `Blob`: that upload fails with `UPLOAD_FAILED`).
 * @example
 * client.upload(input.files[0]);                 // browser
 * client.upload(await fs.promises.readFile(p));  // Node
 */
export type UploadSource = Blob | Uint8Array | ReadableStreamLike;

/**
 * Where an upload is.
 * @example
 * client.upload(file, { onStateChange: (s) => (button.disabled = s === 'uploaded' || s === 'failed') });
 */
export type UploadState = 'starting' | 'uploading' | 'paused' | 'uploaded' | 'failed' | 'aborted';

/**
 * Per-upload options.
 * @example
 * client.upload(file, { metadata: { priority: 'high' }, onProgress: (p) => (bar.value = p.percent) });
 */
export interface UploadOptions {
  /** Upload metadata (`filename` and `filetype` are filled from a `File` when absent). */
  metadata?: Record<string, string>;
  /** Size in bytes, needed only for a stream in Node. */
  size?: number;
  /** Called as bytes go out: bytes, percent, speed and ETA. */
  onProgress?: (progress: Progress) => void;
  /** Called on every state change. */
  onStateChange?: (state: UploadState) => void;
}

/**
 * A running upload.
 * @example
 * const handle = client.upload(file);
 * pauseButton.onclick = () => (handle.state === 'paused' ? handle.resume() : handle.pause());
 * const { id, url } = await handle.done;
 */
export interface UploadHandle {
  readonly state: UploadState;
  /** The upload URL once the server created it (or the stored one it resumes). */
  readonly url: string | null;
  /** The upload id (last segment of the URL). */
  readonly id: string | null;
  readonly progress: Progress;
  /** Whether this upload continues one found in the resume store. */
  readonly resumed: boolean;
  /** Whether the file is sent as parallel partial uploads, concatenated by the server. */
  readonly parallel: boolean;
  /** Resolves when every byte is stored; rejects with a {@link TusEdgeError}. */
  readonly done: Promise<{ id: string; url: string }>;
  /** Stops sending; the bytes stored are kept. */
  pause(): Promise<void>;
  /** Continues a paused upload from the server's offset. */
  resume(): void;
  /** Stops and deletes the upload on the server; `done` rejects with `ABORTED`. */
  abort(): Promise<void>;
}

/** What the client hands an upload (already resolved from the client options). */
export interface UploadSettings {
  endpoint: string;
  chunkSize: number;
  parallelUploads: number;
  parallelThreshold: number;
  resume: boolean;
  retry: RetryPolicy;
  token: TokenSource;
  online: () => boolean;
  urlStorage?: tus.UrlStorage;
  headers: Record<string, string>;
}

/** The part of tus-js-client an upload uses (the browser or Node build, chosen by the entry point). */
export interface TusModule {
  Upload: typeof tus.Upload;
}

const idOf = (url: string | null) => (url ? (new URL(url).pathname.split('/').filter(Boolean).pop() ?? null) : null);

function sizeOf(source: UploadSource, given: number | undefined): number | undefined {
  if (given !== undefined) return given;
  if (typeof Blob !== 'undefined' && source instanceof Blob) return source.size;
  if (source instanceof Uint8Array) return source.byteLength;
  return undefined;
}

/** Starts one upload on tus-js-client with the SDK's retries, auth, resume and parallel choices. */
export function startUpload(tusModule: TusModule, source: UploadSource, settings: UploadSettings, options: UploadOptions = {}): UploadHandle {
  const size = sizeOf(source, options.size);
  const parallel = size !== undefined && settings.parallelUploads > 1 && size >= settings.parallelThreshold;
  const meter = new ProgressMeter(size ?? 0);
  const named = source as { name?: unknown; type?: unknown };
  const metadata: Record<string, string> = { ...options.metadata };
  if (metadata.filename === undefined && typeof named.name === 'string') metadata.filename = named.name;
  if (metadata.filetype === undefined && typeof named.type === 'string' && named.type) metadata.filetype = named.type;

  let state: UploadState = 'starting';
  let resumed = false;
  let authRetried = false;
  // The token this upload started with; kept for all its requests (see TokenSource).
  let token: string | undefined;
  let resolveDone!: (v: { id: string; url: string }) => void;
  let rejectDone!: (e: TusEdgeError) => void;
  const done = new Promise<{ id: string; url: string }>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  done.catch(() => undefined); // callers who never await `done` get no unhandled rejection
  const setState = (next: UploadState) => {
    if (state === next) return;
    state = next;
    options.onStateChange?.(next);
  };

  const upload = new tusModule.Upload(source as never, {
    endpoint: settings.endpoint,
    metadata,
    chunkSize: settings.chunkSize,
    ...(parallel ? { parallelUploads: settings.parallelUploads } : {}),
    ...(options.size !== undefined && !parallel ? { uploadSize: options.size } : {}),
    headers: settings.headers,
    // One slot per allowed retry; each slot is set by onShouldRetry to the delay it decides.
    retryDelays: new Array<number>(settings.retry.retries).fill(0),
    storeFingerprintForResuming: settings.resume,
    removeFingerprintOnSuccess: true,
    ...(settings.urlStorage ? { urlStorage: settings.urlStorage } : {}),
    onBeforeRequest: async (req) => {
      token ??= await settings.token.get();
      if (token) req.setHeader('Authorization', `Bearer ${token}`);
    },
    onAfterResponse: (_req, res) => {
      // A token that works again allows one more refresh-and-retry the next time one is refused.
      if (res.getStatus() < 400) authRetried = false;
    },
    onShouldRetry: (err, attempt, opts) => {
      const res = err.originalResponse;
      const status = res ? res.getStatus() : 0;
      if (status !== 401) authRetried = false;
      const decision = retryDecision(
        { status, retryAfter: res?.getHeader('Retry-After'), body: res ? safeBody(res) : undefined },
        attempt,
        settings.retry,
        settings.online(),
        settings.token.refreshable && !authRetried,
      );
      if (!decision.retry) return false;
      if (status === 401) {
        authRetried = true;
        settings.token.invalidate(token);
        token = undefined;
      }
      // tus-js-client reads the delay from this upload's own options right after this call.
      const delays = (opts.retryDelays ?? []).slice();
      delays[attempt] = decision.delayMs;
      opts.retryDelays = delays;
      return true;
    },
    onProgress: (sent, total) => {
      if (state === 'starting') setState('uploading');
      options.onProgress?.(meter.update(sent, total));
    },
    onSuccess: () => {
      setState('uploaded');
      const url = upload.url!;
      settings.token.pin(idOf(url)!, token);
      resolveDone({ id: idOf(url)!, url });
    },
    onError: (err) => {
      setState('failed');
      const fromRequest = (err as { originalRequest?: unknown }).originalRequest != null;
      rejectDone(fromRequest ? toTusEdgeError(err) : new TusEdgeError('UPLOAD_FAILED', `upload: ${err.message}`, { retryable: false, cause: err }));
    },
  });

  void (async () => {
    try {
      if (settings.resume) {
        const previous = await upload.findPreviousUploads();
        const latest = previous
          .filter((p) => p.uploadUrl || p.parallelUploadUrls)
          .sort((a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime))[0];
        if (latest) {
          upload.resumeFromPreviousUpload(latest);
          resumed = true;
        }
      }
      if (state === 'starting') upload.start();
    } catch (err) {
      setState('failed');
      rejectDone(toTusEdgeError(err));
    }
  })();

  return {
    get state() {
      return state;
    },
    get url() {
      return upload.url;
    },
    get id() {
      return idOf(upload.url);
    },
    get progress() {
      return meter.current;
    },
    get resumed() {
      return resumed;
    },
    parallel,
    done,
    async pause() {
      if (state !== 'uploading' && state !== 'starting') return;
      setState('paused');
      meter.restart();
      await upload.abort(false);
    },
    resume() {
      if (state !== 'paused') return;
      setState('uploading');
      upload.start();
    },
    async abort() {
      if (state === 'uploaded' || state === 'aborted') return;
      setState('aborted');
      rejectDone(new TusEdgeError('ABORTED', 'upload: aborted by the caller', { retryable: false }));
      await upload.abort(true).catch(() => undefined);
    },
  };
}

function safeBody(res: tus.HttpResponse): string | undefined {
  try {
    return res.getBody();
  } catch {
    return undefined;
  }
}
