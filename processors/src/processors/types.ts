import type { Readable } from 'node:stream';
import type { UploadCompletedEvent, UploadLocation } from '../pipeline/event.js';
import type { Logger } from '../logger.js';
import type { UploadResults } from '../results/types.js';
import type { JobStatus } from '../status/types.js';

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
  /** Where this upload's results go (`DATA_DIR/results/<uploadId>/` or `s3://<bucket>/results/<uploadId>/`). */
  results: UploadResults;
  /**
   * The upload's real type: from the fingerprint job's status when it is done, else (for processors
   * with `wantsType`) sniffed by the runtime from the first 64 KiB; undefined when unknown.
   */
  sniffed?: SniffedType;
  /**
   * Resolves once the jobs of these kinds for the same event are all terminal (`done`, `failed`,
   * `skipped`), with their status; rejects when the job is aborted. Event-driven (status subscription).
   * A job keeps its lease while it waits; the job timeout still applies.
   */
  waitFor(kinds: readonly string[]): Promise<Record<string, JobStatus>>;
  /**
   * Reports tokens a generation API used for this job and the model that answered (counted per kind in
   * the runtime's metrics, and kept with the attempt in the job history).
   */
  tokensUsed?(usage: { prompt: number; completion: number; model?: string }): void;
  /**
   * Adds `value` to the custom counter `name` (`[a-z][a-z0-9_.-]*`, at most 32 per attempt) kept with
   * this attempt in the job history (`GET /api/analytics/...`, the daily rollup sums them).
   */
  metric?(name: string, value: number): void;
}

/** What a successful run produces; recorded in the status and in the `media.processed` outcome. */
export interface ProcessorResult {
  /** Small inline result stored in the status (keep it well under a few KiB). */
  result?: Record<string, unknown>;
  /** Where a larger output was written, or null when the result is inline only. */
  outputLocation?: string | null;
  outputSizeBytes?: number;
  /** Set (by the runtime) when this is another upload's result, reused for the same bytes. */
  reusedFrom?: string;
}

/**
 * A kind of processing. `accepts` is asked when an event is dispatched (without `sniffed`) and again
 * before a run, with the sniffed type when the fingerprint job has already recorded one; returning
 * false marks the job `skipped`. `run` throws to fail: a {@link ProcessingError} from the catalogue
 * says whether to retry; anything else is retried. Throwing `notApplicable(reason)` records `skipped`.
 */
export interface Processor {
  readonly kind: string;
  /**
   * Optional capability: the runtime sniffs the first 64 KiB itself before a run when the fingerprint
   * job has not recorded the type yet, so `accepts` and `ctx.sniffed` always see the real type.
   */
  readonly wantsType?: boolean;
  /** Optional capability: at most this many jobs of this kind at once per process (below `PROCESSOR_CONCURRENCY`). */
  readonly concurrency?: number;
  /**
   * Optional capability: outside services every job of this kind needs (`openai`). While one's circuit
   * breaker is open the runtime takes no job of this kind, so waiting jobs spend no delivery.
   */
  readonly services?: readonly string[];
  /**
   * Optional capability: whether a stored result of the upload is this kind's. When a processing
   * request runs the kind again, those are kept as a version and removed first (results/versions.ts);
   * without it nothing is kept and stored results may be reused by the run.
   */
  ownsResult?(name: string): boolean;
  accepts(event: UploadCompletedEvent, sniffed?: SniffedType): boolean;
  run(event: UploadCompletedEvent, ctx: ProcessorContext): Promise<ProcessorResult>;
}
