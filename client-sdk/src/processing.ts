import type { TokenSource } from './auth.js';
import { TusEdgeError, errorFromResponse, toTusEdgeError } from './errors.js';
import { backoffDelay, type RetryPolicy } from './retry.js';
import type { Chapter, ExtractedText, ProcessingStatus, QuizQuestion, Rendition, ResultFile, UploadInfo, UploadResults } from './types.js';

/** How the SDK reaches the server's JSON API. */
export interface ApiAccess {
  /** Origin (plus any path prefix) the `/api/...` routes live under. */
  apiUrl: string;
  token: TokenSource;
  retry: RetryPolicy;
  fetch: typeof fetch;
}

/**
 * Options of a processing watch.
 * @example
 * const stop = new AbortController();
 * await client.watchProcessing(id, { onStatus: (s) => console.log(s.state), signal: stop.signal });
 */
export interface WatchOptions {
  /** Every status the server reports, in order (the first is the current one). */
  onStatus?: (status: ProcessingStatus) => void;
  /** Stops watching; the promise rejects with `ABORTED`. */
  signal?: AbortSignal;
  /** Polling interval when the event stream is unavailable (default 1000 ms). */
  pollIntervalMs?: number;
  /** Skip the event stream and poll (default false). */
  poll?: boolean;
}

const TERMINAL = new Set(['done', 'failed', 'skipped']);
const isTerminal = (s: ProcessingStatus | null | undefined): s is ProcessingStatus => !!s && TERMINAL.has(s.state);

/** Attempts to open the event stream before switching to polling. */
const SSE_ATTEMPTS = 3;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(aborted());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
const aborted = () => new TusEdgeError('ABORTED', 'processing watch: aborted', { retryable: false });

/** A fetch with the token (the one `uploadId` was made with, when known), one refresh-and-retry on 401. */
export async function apiFetch(api: ApiAccess, path: string, init: RequestInit = {}, uploadId?: string): Promise<Response> {
  const url = path.startsWith('http') ? path : `${api.apiUrl}${path}`;
  const send = async (token: string | undefined) =>
    api.fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), ...(token ? { Authorization: `Bearer ${token}` } : {}) } });
  const token = await api.token.forUpload(uploadId);
  let res = await send(token);
  if (res.status === 401 && api.token.refreshable) {
    await res.body?.cancel();
    api.token.invalidate(token);
    res = await send(await api.token.forUpload(uploadId));
  }
  return res;
}

async function getJson<T>(api: ApiAccess, path: string, what: string, uploadId: string, signal?: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    let res: Response;
    try {
      res = await apiFetch(api, path, { signal }, uploadId);
    } catch (err) {
      if (signal?.aborted) throw aborted();
      const error = toTusEdgeError(err, what);
      if (attempt >= api.retry.retries) throw error;
      await sleep(backoffDelay(api.retry, attempt), signal);
      continue;
    }
    if (res.ok) return (await res.json()) as T;
    const error = errorFromResponse(res.status, await res.text(), what);
    if (!error.retryable || attempt >= api.retry.retries) throw error;
    await sleep(backoffDelay(api.retry, attempt), signal);
  }
}

/** `GET /api/uploads/:id`. */
export function getUpload(api: ApiAccess, id: string, signal?: AbortSignal): Promise<UploadInfo> {
  return getJson<UploadInfo>(api, `/api/uploads/${encodeURIComponent(id)}`, `upload ${id}`, id, signal);
}

/**
 * Reads `text/event-stream` events from a response body: yields `{ event, data }` per event, skips
 * comments (`: heartbeat`).
 */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; data: string }> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let cut: RegExpExecArray | null;
      while ((cut = /\r?\n\r?\n/.exec(buffer))) {
        const block = buffer.slice(0, cut.index);
        buffer = buffer.slice(cut.index + cut[0].length);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split(/\r?\n/)) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
        }
        if (data.length > 0) yield { event, data: data.join('\n') };
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/** Follows the event stream; resolves with the terminal status, or undefined when the stream is unusable. */
async function viaEvents(api: ApiAccess, id: string, options: WatchOptions): Promise<ProcessingStatus | undefined> {
  for (let attempt = 0; attempt < SSE_ATTEMPTS; attempt++) {
    let res: Response;
    try {
      res = await apiFetch(api, `/api/uploads/${encodeURIComponent(id)}/events`, { headers: { Accept: 'text/event-stream' }, signal: options.signal }, id);
    } catch (err) {
      if (options.signal?.aborted) throw aborted();
      await sleep(backoffDelay(api.retry, attempt), options.signal);
      continue;
    }
    if (res.status === 404 || res.status === 410) throw errorFromResponse(res.status, await res.text(), `processing of ${id}`);
    if (!res.ok || !res.body || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      await res.body?.cancel();
      return undefined;
    }
    try {
      for await (const { event, data } of readEvents(res.body)) {
        if (event !== 'status') continue;
        const status = JSON.parse(data) as ProcessingStatus;
        options.onStatus?.(status);
        if (isTerminal(status)) return status;
      }
    } catch (err) {
      if (options.signal?.aborted) throw aborted();
    }
    // The stream ended (a proxy timeout, a node restart) before a terminal state: open it again.
  }
  return undefined;
}

async function viaPolling(api: ApiAccess, id: string, options: WatchOptions): Promise<ProcessingStatus> {
  let last = '';
  for (;;) {
    const info = await getUpload(api, id, options.signal);
    const status = info.processing;
    if (status) {
      const seen = JSON.stringify(status);
      if (seen !== last) options.onStatus?.(status);
      last = seen;
      if (isTerminal(status)) return status;
    }
    await sleep(options.pollIntervalMs ?? 1000, options.signal);
  }
}

/**
 * Waits until the upload's processing reaches a terminal state (`done`, `failed` or `skipped`) and
 * resolves with that status (a failed processing resolves too: see `status.reason`). Uses the SSE
 * endpoint `GET /api/uploads/:id/events`, and polls `GET /api/uploads/:id` when the stream cannot be
 * used (a proxy that buffers, an older server).
 */
export async function watchProcessing(api: ApiAccess, id: string, options: WatchOptions = {}): Promise<ProcessingStatus> {
  if (options.signal?.aborted) throw aborted();
  if (!options.poll) {
    const status = await viaEvents(api, id, options);
    if (status) return status;
  }
  return viaPolling(api, id, options);
}

const resultUrl = (api: ApiAccess, id: string, name: string) =>
  `${api.apiUrl}/api/uploads/${encodeURIComponent(id)}/results/${encodeURIComponent(name)}`;

/** Lists the upload's results and reads the text and generated content into typed fields. */
export async function getResults(api: ApiAccess, id: string, signal?: AbortSignal): Promise<UploadResults> {
  const listed = await getJson<{ files: Omit<ResultFile, 'url'>[] }>(api, `/api/uploads/${encodeURIComponent(id)}/results`, `results of ${id}`, id, signal);
  const files: ResultFile[] = listed.files.map((f) => ({ ...f, url: resultUrl(api, id, f.name) }));
  const byName = new Map(files.map((f) => [f.name, f]));
  const renditions: Rendition[] = files
    .map((f) => ({ f, m: /^video-(\d+)p\.mp4$/.exec(f.name) }))
    .filter((x) => x.m)
    .map(({ f, m }) => ({ ...f, height: Number(m![1]) }))
    .sort((a, b) => b.height - a.height);
  const frames = files.filter((f) => /^frame-\d+\.jpg$/.test(f.name)).sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  const readJson = async <T>(name: string): Promise<T | undefined> =>
    byName.has(name) ? getJson<T>(api, resultUrl(api, id, name), `${name} of ${id}`, id, signal) : undefined;
  const [text, generated] = await Promise.all([
    readJson<ExtractedText>('text.json'),
    readJson<{ summary?: string; chapters?: Chapter[]; quiz?: QuizQuestion[] }>('generated.json'),
  ]);
  return {
    files,
    poster: byName.get('poster.jpg'),
    frames,
    renditions,
    text,
    textFile: byName.get('text.txt'),
    summary: generated?.summary,
    chapters: generated?.chapters ?? [],
    quiz: generated?.quiz ?? [],
  };
}
