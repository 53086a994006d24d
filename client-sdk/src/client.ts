import type * as tus from 'tus-js-client';
import { TokenSource, type TokenCallback } from './auth.js';
import { TusEdgeError, errorFromResponse } from './errors.js';
import { apiFetch, getResults, getUpload, watchProcessing, type ApiAccess, type WatchOptions } from './processing.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import type { ProcessingStatus, ResultFile, UploadInfo, UploadResults } from './types.js';
import { startUpload, type TusModule, type UploadHandle, type UploadOptions, type UploadSource } from './upload.js';

const MiB = 1024 * 1024;

/**
 * Options of `createClient`.
 * @example
 * createClient({ endpoint: '/files/', chunkSize: 50 * 1024 * 1024, parallelThreshold: 256 * 1024 * 1024 });
 */
export interface ClientOptions {
  /** The tus endpoint, e.g. `https://uploads.example.com/files/`. */
  endpoint: string;
  /** Where `/api/...` lives (default: the endpoint's origin). */
  apiUrl?: string;
  /**
   * Auth: a static token, or a callback that fetches one (user or upload token). A token is fetched
   * again shortly before it expires, for new uploads; an upload keeps the token it started with (an
   * upload token reaches only its own uploads) until the server answers 401. Unset: no auth.
   */
  token?: string | TokenCallback;
  /**
   * Bytes per PATCH (default 5 MiB: passes proxies with body limits, such as the ingress of the
   * deployment notes, and is S3's minimum part). Raise it where nothing in front limits bodies.
   */
  chunkSize?: number;
  /** Files of at least this size are sent as parallel partial uploads (default 128 MiB). */
  parallelThreshold?: number;
  /** Partial uploads at once above the threshold (default 3; 1 turns parallel uploads off). */
  parallelUploads?: number;
  /** Resume uploads across reloads and restarts from the stored URL (default true). */
  resume?: boolean;
  /** Retries of failed requests (default 8 retries, 500 ms doubling to 30 s, `Retry-After` honoured). */
  retry?: Partial<RetryPolicy>;
  /** Extra headers on every tus request. */
  headers?: Record<string, string>;
  /** Where resumable uploads are remembered (default: localStorage in browsers, process memory in Node). */
  urlStorage?: tus.UrlStorage;
  /** The fetch to use for the API (default: the global one). */
  fetch?: typeof fetch;
}

/**
 * The SDK's one object: uploads, their processing status and their results.
 * @example
 * const client = createClient({ endpoint: '/files/' });
 * const { id } = await client.upload(file).done;
 * const status = await client.watchProcessing(id);
 */
export interface TusEdgeClient {
  /**
   * Starts uploading; returns at once with a handle (progress, pause / resume / abort, `done`).
   * @example
   * const handle = client.upload(file, { onProgress: (p) => bar.value = p.percent });
   * const { id } = await handle.done;
   */
  upload(source: UploadSource, options?: UploadOptions): UploadHandle;
  /**
   * The upload's state and processing status (`GET /api/uploads/:id`).
   * @example
   * const info = await client.getUpload(id); console.log(info.state, info.processing?.state);
   */
  getUpload(id: string, signal?: AbortSignal): Promise<UploadInfo>;
  /**
   * Follows processing live (SSE, polling as a fallback) until it is `done`, `failed` or `skipped`.
   * @example
   * const status = await client.watchProcessing(id, { onStatus: (s) => render(s) });
   */
  watchProcessing(id: string, options?: WatchOptions): Promise<ProcessingStatus>;
  /**
   * The results, typed: poster, renditions, text, summary, chapters, quiz, and every file's URL.
   * @example
   * const r = await client.results(id); video.poster = r.poster?.url ?? ''; video.src = r.renditions[0]?.url ?? '';
   */
  results(id: string, signal?: AbortSignal): Promise<UploadResults>;
  /**
   * Downloads one result with the token (for `<img>` / `<video>` when auth is on, use an object URL).
   * @example
   * img.src = URL.createObjectURL(await client.fetchResult(results.poster!));
   */
  fetchResult(file: ResultFile | string, signal?: AbortSignal): Promise<Blob>;
}

/** What an entry point (browser or Node) injects. */
export interface Environment {
  tus: TusModule;
  /** Whether the platform believes it is online (a request failing offline waits for the retry). */
  online(): boolean;
  /** The default resume store. */
  urlStorage(): tus.UrlStorage | undefined;
}

/** Builds a client in the given environment (the entry points bind theirs). */
export function createClientIn(env: Environment, options: ClientOptions): TusEdgeClient {
  if (!options?.endpoint) throw new TusEdgeError('INVALID_OPTIONS', 'createClient: `endpoint` is required', { retryable: false });
  const endpoint = new URL(options.endpoint, typeof location !== 'undefined' ? location.href : undefined).toString();
  const apiUrl = (options.apiUrl ? new URL(options.apiUrl, endpoint).toString() : new URL(endpoint).origin).replace(/\/+$/, '');
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const token = new TokenSource(options.token);
  const api: ApiAccess = { apiUrl, token, retry, fetch: options.fetch ?? ((...a) => fetch(...a)) };
  const settings = {
    endpoint,
    chunkSize: options.chunkSize ?? 5 * MiB,
    parallelUploads: options.parallelUploads ?? 3,
    parallelThreshold: options.parallelThreshold ?? 128 * MiB,
    resume: options.resume ?? true,
    retry,
    token,
    online: () => env.online(),
    urlStorage: options.urlStorage ?? env.urlStorage(),
    headers: options.headers ?? {},
  };
  return {
    upload: (source, uploadOptions) => startUpload(env.tus, source, settings, uploadOptions),
    getUpload: (id, signal) => getUpload(api, id, signal),
    watchProcessing: (id, watchOptions) => watchProcessing(api, id, watchOptions),
    results: (id, signal) => getResults(api, id, signal),
    fetchResult: async (file, signal) => {
      const url = typeof file === 'string' ? file : file.url;
      const uploadId = /\/api\/uploads\/([^/]+)\/results\//.exec(new URL(url, apiUrl).pathname)?.[1];
      const res = await apiFetch(api, url, { signal }, uploadId === undefined ? undefined : decodeURIComponent(uploadId));
      if (!res.ok) throw errorFromResponse(res.status, await res.text(), `result ${url}`);
      return res.blob();
    },
  };
}
