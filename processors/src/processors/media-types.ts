import type { UploadCompletedEvent } from '../pipeline/event.js';
import type { SniffedType } from './types.js';

/** What the media processors care about: video, audio, one of the document formats, or anything else. */
export type MediaClass = 'video' | 'audio' | 'pdf' | 'docx' | 'pptx' | 'text' | 'markdown' | 'other';

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const PPTX = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';
const MARKDOWN_TYPES = new Set(['text/markdown', 'text/x-markdown']);
const VIDEO_EXTS = new Set(['mp4', 'm4v', 'mov', 'webm', 'mkv', 'avi', 'ogv', '3gp']);
const AUDIO_EXTS = new Set(['mp3', 'm4a', 'm4b', 'aac', 'wav', 'flac', 'ogg', 'oga', 'opus']);

/** Class of a MIME type (parameters ignored). */
export function classOfMime(mime: string): MediaClass {
  const m = mime.split(';')[0].trim().toLowerCase();
  if (m.startsWith('video/')) return 'video';
  if (m.startsWith('audio/')) return 'audio';
  if (m === 'application/pdf') return 'pdf';
  if (m === DOCX) return 'docx';
  if (m === PPTX) return 'pptx';
  if (MARKDOWN_TYPES.has(m)) return 'markdown';
  if (m === 'text/plain') return 'text';
  return 'other';
}

function classOfExt(ext: string): MediaClass {
  if (VIDEO_EXTS.has(ext)) return 'video';
  if (AUDIO_EXTS.has(ext)) return 'audio';
  if (ext === 'pdf' || ext === 'docx' || ext === 'pptx') return ext;
  if (ext === 'md' || ext === 'markdown') return 'markdown';
  if (ext === 'txt' || ext === 'text') return 'text';
  return 'other';
}

/** The client's claim about the file: metadata `filetype`/`contentType`, else the `filename` extension; null when neither. */
export function declaredClass(event: UploadCompletedEvent): { cls: MediaClass; declared: string } | null {
  const mime = event.metadata.filetype ?? event.metadata.contentType;
  if (mime) return { cls: classOfMime(mime), declared: mime };
  const name = event.metadata.filename ?? event.metadata.name;
  const dot = name ? name.lastIndexOf('.') : -1;
  if (name && dot > 0) return { cls: classOfExt(name.slice(dot + 1).toLowerCase()), declared: `a .${name.slice(dot + 1)} file` };
  return null;
}

/**
 * The class of an upload from its real (sniffed) type. Sniffing cannot tell Markdown from plain text,
 * nor text meant as a document from, say, JSON: UTF-8 text is a document only when the client declared
 * plain text or Markdown, or declared nothing.
 */
export function contentClass(event: UploadCompletedEvent, sniffed: SniffedType): MediaClass {
  const cls = classOfMime(sniffed.mime);
  const declared = declaredClass(event);
  // A zip whose first 64 KiB do not show OOXML part names may still be the DOCX / PPTX it claims to be
  // (or a damaged one): let the documents processor open it and say which.
  if (sniffed.mime === 'application/zip' && (declared?.cls === 'docx' || declared?.cls === 'pptx')) return declared.cls;
  if (cls !== 'text') return cls;
  if (!declared) return 'text';
  return declared.cls === 'markdown' || declared.cls === 'text' ? declared.cls : 'other';
}

export const DOCUMENT_CLASSES: ReadonlySet<MediaClass> = new Set(['pdf', 'docx', 'pptx', 'text', 'markdown']);
/** What the `video` processor takes: video, and audio-only media (metadata and transcript). */
export const TIMED_MEDIA_CLASSES: ReadonlySet<MediaClass> = new Set(['video', 'audio']);

/**
 * Shared `accepts` rule of the media processors. Before the type is known: yes (the content decides).
 * Once sniffed: yes when the content is of the processor's classes, and also when the client declared
 * one of them but the content is something else — the run then fails as `MISLABELLED` with a reason.
 */
export function acceptsClass(event: UploadCompletedEvent, sniffed: SniffedType | undefined, classes: ReadonlySet<MediaClass>): boolean {
  if (!sniffed) return true;
  if (classes.has(contentClass(event, sniffed))) return true;
  const declared = declaredClass(event);
  return !!declared && classes.has(declared.cls);
}
