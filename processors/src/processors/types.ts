import type { Readable } from 'node:stream';
import type { UploadCompletedEvent, UploadLocation } from '../events.js';
import type { Logger } from '../logger.js';

/** The real type of a file, found from its first bytes. */
export interface SniffedType {
  /** MIME type, `application/octet-stream` when unknown. */
  mime: string;
  /** Usual extension without the dot, or `null`. */
  ext: string | null;
}

/**
 * Opens the stored bytes of an upload. The runtime reads `file` locations itself; for `s3` the server
 * passes a function built from its own S3 client (the S3 configuration lives in the server).
 */
export type OpenStream = (location: UploadLocation, signal: AbortSignal) => Promise<Readable>;

/** What a processor gets besides the event. */
export interface ProcessorContext {
  /** Heartbeat: extends the job's lease (the runtime also sends one every third of the ack wait). */
  working(): void;
  /** Reports progress 0..1 (stored in the status, throttled) and counts as a heartbeat. */
  progress(fraction: number): void;
  logger: Logger;
  /** Aborted on job timeout or shutdown; processors must stop reading and reject. */
  signal: AbortSignal;
  /** Reads the stored object (file path, or S3 through the injected reader). */
  openStream(location: UploadLocation): Promise<Readable>;
  /** 1 on the first attempt. */
  attempt: number;
}

/** What a successful run produces; recorded in the status and in the `media.processed` outcome. */
export interface ProcessorResult {
  /** Small inline result stored in the status (keep it well under a few KiB). */
  result?: Record<string, unknown>;
  /** Where a larger output was written, or null when the result is inline only. */
  outputLocation?: string | null;
  outputSizeBytes?: number;
}

/**
 * A kind of processing. `accepts` is asked when an event is dispatched (without `sniffed`) and again
 * before a run, with the sniffed type when the fingerprint job has already recorded one; returning
 * false marks the job `skipped`. `run` throws to fail: a {@link ProcessingError} from the catalogue
 * says whether to retry; anything else is retried.
 */
export interface Processor {
  readonly kind: string;
  accepts(event: UploadCompletedEvent, sniffed?: SniffedType): boolean;
  run(event: UploadCompletedEvent, ctx: ProcessorContext): Promise<ProcessorResult>;
}
