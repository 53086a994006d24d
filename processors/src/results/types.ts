import type { Readable } from 'node:stream';

/** One stored result of an upload (a thumbnail, a rendition, extracted text, generated content…). */
export interface ResultFile {
  /** File name inside the upload's result folder, see {@link RESULT_NAME}. */
  name: string;
  /** Derived from the name's extension ({@link contentTypeOf}). */
  contentType: string;
  size: number;
}

/** What {@link ResultStore.put} stores: bytes in memory, or a local file (streamed, never loaded whole). */
export type ResultBody = Buffer | { file: string };

/** An inclusive byte range of a result (HTTP `Range: bytes=start-end`). */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where processors keep what they produce, beside the upload: `DATA_DIR/results/<uploadId>/<name>`
 * ({@link FileResultStore}) or `s3://<bucket>/results/<uploadId>/<name>` ({@link S3ResultStore}).
 * Writes are atomic (a reader sees the old file, the new one, or none), so a step that finds its result
 * already stored can skip itself on a retry. Names are validated with {@link assertResultName}.
 */
export interface ResultStore {
  /** Stores (or replaces) `name`. */
  put(uploadId: string, name: string, body: ResultBody): Promise<ResultFile>;
  /** The file's description, or null when absent. */
  head(uploadId: string, name: string): Promise<ResultFile | null>;
  /** Opens the file (or `range` of it) as a stream, or null when absent. */
  get(uploadId: string, name: string, range?: ByteRange, signal?: AbortSignal): Promise<{ file: ResultFile; stream: Readable } | null>;
  /** Every stored result of the upload, sorted by name. */
  list(uploadId: string): Promise<ResultFile[]>;
  /** Deletes one result (nothing to do when it is absent). */
  delete(uploadId: string, name: string): Promise<void>;
  /** Deletes every result of the upload (nothing to do when there is none). */
  remove(uploadId: string): Promise<void>;
  /** Human-readable reference of the upload's result folder (`file://…/` or `s3://bucket/results/<id>/`). */
  locationOf(uploadId: string): string;
}

/** Result names: lower-case letters, digits, `.`, `_`, `-`; starts with a letter or digit; at most 100. */
export const RESULT_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;
/** Upload ids in result paths: the event id alphabet, and not `.`/`..`. */
const UPLOAD_ID = /^[A-Za-z0-9._-]{1,200}$/;

/** True when `name` may be used as a result name (no path separators, no `..`). */
export function isResultName(name: string): boolean {
  return RESULT_NAME.test(name) && !name.includes('..');
}

export function assertResultName(name: string): void {
  if (!isResultName(name)) throw new Error(`invalid result name "${name}" (must match ${RESULT_NAME} without "..")`);
}

export function assertUploadId(uploadId: string): void {
  if (!UPLOAD_ID.test(uploadId) || uploadId === '.' || uploadId === '..') throw new Error(`invalid upload id "${uploadId}" for a result path`);
}

const CONTENT_TYPES: Record<string, string> = {
  json: 'application/json',
  csv: 'text/csv; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  vtt: 'text/vtt; charset=utf-8',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  mp4: 'video/mp4',
  m4a: 'audio/mp4',
  mp3: 'audio/mpeg',
};

/** The content type of a result, from its extension (`application/octet-stream` when unknown). */
export function contentTypeOf(name: string): string {
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  return CONTENT_TYPES[ext] ?? 'application/octet-stream';
}

/**
 * Names the result versions use (results/versions.ts): `v<n>.<kind>.<name>` (a file of an earlier run) and
 * `versions.<kind>.json` (what each version of a kind was). Processors never see them in `list()`, and
 * the results API lists them under `/versions` only.
 */
export function isVersionArtifact(name: string): boolean {
  return /^v[1-9]\d{0,5}\./.test(name) || /^versions\.[a-z0-9-]+\.json$/.test(name);
}

/** The results of one upload, as a processor sees them (`ctx.results`). */
export interface UploadResults {
  put(name: string, body: ResultBody): Promise<ResultFile>;
  head(name: string): Promise<ResultFile | null>;
  /** Reads a whole (small) result into memory, or null when absent. */
  read(name: string): Promise<Buffer | null>;
  /** The current results (version artifacts left out, see {@link isVersionArtifact}). */
  list(): Promise<ResultFile[]>;
  /** See {@link ResultStore.locationOf}. */
  location(): string;
}

/** Binds a store to one upload. */
export function uploadResults(store: ResultStore, uploadId: string, signal?: AbortSignal): UploadResults {
  return {
    put: (name, body) => store.put(uploadId, name, body),
    head: (name) => store.head(uploadId, name),
    read: async (name) => {
      const got = await store.get(uploadId, name, undefined, signal);
      if (!got) return null;
      const chunks: Buffer[] = [];
      for await (const chunk of got.stream as AsyncIterable<Buffer>) chunks.push(chunk);
      return Buffer.concat(chunks);
    },
    list: async () => (await store.list(uploadId)).filter((f) => !isVersionArtifact(f.name)),
    location: () => store.locationOf(uploadId),
  };
}
