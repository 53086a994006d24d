/**
 * The server's JSON, as the SDK types it (the wire contract of `GET /api/uploads/:id`, its event
 * stream and the results API; see the server's README and processors/README.md). The SDK runs in
 * browsers and does not import the processors package: `test/wire-types.test.ts` fails the type-check
 * when what the processors write no longer fits these types.
 */

/** State of one processor job, and the aggregate of an upload. */
export type JobState = 'queued' | 'processing' | 'done' | 'failed' | 'skipped';

/** One processor kind's status for an upload (`fingerprint`, `video`, `documents`, `generate`). */
export interface JobStatus {
  kind: string;
  state: JobState;
  attempts: number;
  /** Why it failed or was skipped. */
  reason?: string;
  /** Catalogue code that goes with `reason`. */
  code?: string;
  /** 0..1 while processing, when the processor reports it. */
  progress?: number;
  /** Small inline result (fingerprint: `sha256`, `mime`, ...). */
  result?: Record<string, unknown>;
  queuedAt?: string;
  startedAt?: string;
  finishedAt?: string;
  updatedAt: string;
}

/**
 * Processing status of an upload: one job per kind plus an aggregate `state`.
 * @example
 * const s = await client.watchProcessing(id);
 * for (const job of Object.values(s.jobs)) console.log(job.kind, job.state, job.reason ?? '');
 */
export interface ProcessingStatus {
  uploadId: string;
  eventId: string;
  state: JobState;
  /** For `failed`: `<kind>: <reason>` of each failed job. */
  reason?: string;
  jobs: Record<string, JobStatus>;
  updatedAt: string;
}

/**
 * `GET /api/uploads/:id`.
 * @example
 * const info = await client.getUpload(id); // info.state === 'finished', info.processing?.state
 */
export interface UploadInfo {
  id: string;
  size: number | null;
  offset: number | null;
  metadata: Record<string, string | null>;
  state: 'created' | 'uploading' | 'assembling' | 'finished' | 'expired';
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  expiresAt: string | null;
  processing: ProcessingStatus | null;
}

/** One stored result file, with the URL it is served at. */
export interface ResultFile {
  name: string;
  contentType: string;
  size: number;
  /** `GET` this (with the token, when auth is on) to download it; supports `Range`. */
  url: string;
}

/** A rendition (`video-<h>p.mp4`). */
export interface Rendition extends ResultFile {
  height: number;
}

/** One piece of extracted text: `start`/`end` seconds (transcript) or `ref` page / slide / section. */
export interface TextSegment {
  text: string;
  start?: number;
  end?: number;
  ref?: number;
}

/** `text.json`: a transcript or a document's text. */
export interface ExtractedText {
  version: 1;
  source: 'video' | 'documents';
  format: 'transcript' | 'pdf' | 'docx' | 'pptx' | 'text' | 'markdown';
  unit: 'time' | 'page' | 'slide' | 'section';
  segments: TextSegment[];
  chars: number;
  truncated: boolean;
  durationSeconds?: number;
  units?: number;
  language?: string;
}

/** A chapter: `start` seconds into a video, or `page` (page, slide or section) of a document. */
export interface Chapter {
  title: string;
  summary: string;
  start?: number;
  page?: number;
}

/** A quiz question; `answer` is the index of the right choice. */
export interface QuizQuestion {
  question: string;
  choices: string[];
  answer: number;
  explanation: string;
}

/**
 * What an upload's processing produced, typed, with URLs (absent parts were not produced).
 * @example
 * const r = await client.results(id);
 * video.poster = r.poster?.url ?? ''; video.src = r.renditions[0]?.url ?? '';
 * r.chapters.forEach((c) => list.append(`${c.start ?? c.page} ${c.title}`));
 */
export interface UploadResults {
  /** Every stored file. */
  files: ResultFile[];
  poster?: ResultFile;
  frames: ResultFile[];
  /** Highest first. */
  renditions: Rendition[];
  /** The transcript (video, audio) or the document's text. */
  text?: ExtractedText;
  /** The same as plain text (`text.txt`). */
  textFile?: ResultFile;
  summary?: string;
  chapters: Chapter[];
  quiz: QuizQuestion[];
}
