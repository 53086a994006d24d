import os from 'node:os';
import type { BreakerSettings } from '../common/breaker.js';
import type { TracingConfig } from '../tracing/tracing.js';
import { parseBreakers, parseRedisGuard, parseTracing } from './observability.js';
import type { RedisGuardSettings } from '../common/redis-guard.js';
import path from 'node:path';
import { ConfigError, parseBoolean, parseDuration, parseInteger, parseLogLevel, parseSize, type LogLevel } from '../common/config-parse.js';

export { ConfigError, type LogLevel };

/** Every environment variable the processor runtime understands (documented in processors/README.md). */
export const ENV_KEYS = [
  'DATA_DIR',
  'HOST',
  'LOG_LEVEL',
  'NODE_NAME',
  'SHUTDOWN_TIMEOUT_MS',
  'NATS_URL',
  'NATS_STREAM_RETENTION',
  'NATS_STREAM_MAX_AGE',
  'NATS_STREAM_REPLICAS',
  'NATS_DUPLICATE_WINDOW',
  'NATS_DEADLETTER_MAX_AGE',
  'REDIS_URL',
  'REDIS_PREFIX',
  'PROCESSORS_PORT',
  'PROCESSOR_CONCURRENCY',
  'PROCESSOR_MAX_DELIVER',
  'PROCESSOR_ACK_WAIT',
  'PROCESSOR_JOB_TIMEOUT',
  'PROCESSOR_BACKOFF_BASE',
  'PROCESSOR_BACKOFF_MAX',
  'PROCESSOR_HIGH_PRIORITY_MAX_BYTES',
  'PROCESSOR_PRIORITY_METADATA',
  'PROCESSOR_STATUS_TTL',
  'S3_ENDPOINT',
  'S3_REGION',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'S3_FORCE_PATH_STYLE',
  'PROCESSOR_KINDS',
  'VIDEO_RENDITIONS',
  'VIDEO_PREVIEW_FRAMES',
  'VIDEO_CONCURRENCY',
  'FFMPEG_THREADS',
  'TRANSCRIBE_CHUNK_DURATION',
  'MAX_DOCUMENT_BYTES',
  'MAX_DOCUMENT_TEXT_BYTES',
  'OPENAI_API_KEY',
  'OPENAI_BASE_URL',
  'OPENAI_MODEL',
  'OPENAI_TRANSCRIBE_MODEL',
  'OPENAI_MAX_INPUT_TOKENS',
  'OPENAI_TIMEOUT',
  'OPENAI_MAX_RETRIES',
  'OPENAI_CONCURRENCY',
  'OTEL_SDK_DISABLED',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_SERVICE_NAME',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
  'OTEL_RESOURCE_ATTRIBUTES',
  'CIRCUIT_FAILURES',
  'CIRCUIT_WINDOW',
  'CIRCUIT_OPEN_FOR',
  'REDIS_COMMAND_TIMEOUT',
  'REDIS_OFFLINE_QUEUE',
  'PROCESSOR_MAX_POSTPONES',
] as const;

/** The known variables as raw strings (unset or empty: absent). */
export type RawEnv = Partial<Record<(typeof ENV_KEYS)[number], string>>;

export type Retention = 'limits' | 'interest' | 'workqueue';

/** JetStream stream settings shared by {@link ensureStreams} callers (server and runtime). */
export interface StreamSettings {
  /** Retention of the `UPLOADS` and `MEDIA` streams (`NATS_STREAM_RETENTION`, default `limits`). */
  retention: Retention;
  /** Messages older than this are dropped (`NATS_STREAM_MAX_AGE`, default 7d). */
  maxAgeMs: number;
  /** Stream replicas in a cluster (`NATS_STREAM_REPLICAS`, default 1, at most 5). */
  replicas: number;
  /** Publishes with the same msgID inside this window are stored once (`NATS_DUPLICATE_WINDOW`, default 2m). */
  duplicateWindowMs: number;
  /** How long dead-letter records are kept (`NATS_DEADLETTER_MAX_AGE`, default 30d). */
  deadLetterMaxAgeMs: number;
}

/** Where jobs come from: the embedded directory outbox, or NATS JetStream. */
export type QueueConfig =
  | { kind: 'directory'; dir: string }
  | { kind: 'jetstream'; servers: string[]; streams: StreamSettings };

/** Where processing status lives: files under DATA_DIR, or Redis. */
export type StatusConfig =
  | { kind: 'file'; dir: string; ttlMs: number }
  | { kind: 'redis'; url: string; prefix: string; ttlMs: number };

/**
 * The part of the processors' settings the server needs as well, whether or not it runs the runtime:
 * where completion events go, where processing status lives, how uploads in S3 are read, and the data
 * directory (results live under it).
 */
export interface PipelineConfig {
  /** `DATA_DIR`, default `./data` (resolved to an absolute path). */
  dataDir: string;
  /** Job source: `jetstream` when `NATS_URL` is set, else the directory outbox `DATA_DIR/events`. */
  queue: QueueConfig;
  /** Status store: `redis` when `REDIS_URL` is set, else files under `DATA_DIR/processing`. */
  status: StatusConfig;
  /** How to read uploads stored in S3 (the bucket comes with each event); the server's S3_* variables. */
  s3: S3ReadConfig;
  /** OpenTelemetry traces (`OTEL_*`, see config/observability.ts); null while off (no OTLP endpoint). */
  tracing: TracingConfig | null;
  /** How the circuit breakers around OpenAI and S3 trip and recover (`CIRCUIT_*`). */
  breakers: BreakerSettings;
  /** Bounds of every Redis command, server's and processors' (`REDIS_COMMAND_TIMEOUT`, `REDIS_OFFLINE_QUEUE`). */
  redisGuard: RedisGuardSettings;
}

/** Validated processor-runtime configuration. Every field has a documented default. */
export interface ProcessorsConfig extends PipelineConfig {
  /** Interface of the health/metrics endpoint (`HOST`, default `0.0.0.0`). */
  host: string;
  /** Port of the health/metrics endpoint (`PROCESSORS_PORT`, default 1081; 0 picks a free one). */
  port: number;
  /** Jobs run at once per processor kind in this process (`PROCESSOR_CONCURRENCY`, default 4). */
  concurrency: number;
  /** Attempts before a job is dead-lettered (`PROCESSOR_MAX_DELIVER`, default 5). */
  maxDeliver: number;
  /**
   * Deliveries per job that may end on an outside service's transient failure (OpenAI, S3, Redis)
   * without counting as attempts: they are postponed with a delay instead (`PROCESSOR_MAX_POSTPONES`,
   * default 20; 0 counts every failure). On JetStream the consumers' `max_deliver` grows by as much.
   */
  maxPostpones: number;
  /** A job not acknowledged nor heartbeated for this long is redelivered (`PROCESSOR_ACK_WAIT`, default 30s). */
  ackWaitMs: number;
  /** A single attempt is aborted after this long and retried (`PROCESSOR_JOB_TIMEOUT`, default 15m). */
  jobTimeoutMs: number;
  /** Retry delay = min(max, base × 2^(attempt−1)) ± 20 % (`PROCESSOR_BACKOFF_BASE` 1s, `PROCESSOR_BACKOFF_MAX` 5m). */
  backoff: { baseMs: number; maxMs: number };
  /** Uploads up to this size go to the high lane; 0 = only `priority` metadata decides (`PROCESSOR_HIGH_PRIORITY_MAX_BYTES`, default 16MiB). */
  highPriorityMaxBytes: number;
  /** Whether upload metadata `priority` may choose the lane (`PROCESSOR_PRIORITY_METADATA`, default true). */
  priorityFromMetadata: boolean;
  /** Grace period for running jobs on SIGTERM (`SHUTDOWN_TIMEOUT_MS`, default 10000). */
  shutdownTimeoutMs: number;
  /** `LOG_LEVEL`, default `info`. */
  logLevel: LogLevel;
  /** `NODE_NAME`, default the host name. */
  nodeName: string;
  /** Processor kinds this process runs (`PROCESSOR_KINDS`, comma-separated; default all of {@link PROCESSOR_KIND_NAMES}). */
  kinds: ProcessorKindName[];
  video: VideoConfig;
  documents: DocumentsConfig;
  openai: OpenAIConfig;
}

/** The processor kinds the runtime knows, in dispatch order. */
export const PROCESSOR_KIND_NAMES = ['fingerprint', 'video', 'documents', 'generate'] as const;
export type ProcessorKindName = (typeof PROCESSOR_KIND_NAMES)[number];

export interface VideoConfig {
  /** Heights of the H.264/AAC MP4 ladder (`VIDEO_RENDITIONS`, e.g. `720p,480p`, or `none`; default `720p`; at most 2160). */
  renditions: number[];
  /** Preview frames besides the poster (`VIDEO_PREVIEW_FRAMES`, 0–20, default 4). */
  previewFrames: number;
  /** `-threads` of every ffmpeg command (`FFMPEG_THREADS`, 0 = ffmpeg decides, default 2). */
  ffmpegThreads: number;
  /** Video jobs at once per process (`VIDEO_CONCURRENCY`, default 1, capped by `PROCESSOR_CONCURRENCY`). */
  concurrency: number;
  /** Audio is sent to transcription in pieces of at most this long (`TRANSCRIBE_CHUNK_DURATION`, default 10m, 10s–60m). */
  transcribeChunkSeconds: number;
}

export interface DocumentsConfig {
  /** PDF is read in ranges whatever its size; DOCX/PPTX are read whole and refused beyond this (`MAX_DOCUMENT_BYTES`, default 64MiB). */
  maxBytes: number;
  /** Extracted text beyond this is cut (marked `truncated`) (`MAX_DOCUMENT_TEXT_BYTES`, default 8MiB). */
  maxTextBytes: number;
}

export interface OpenAIConfig {
  /** `OPENAI_API_KEY`; absent: transcription and generated content are recorded as skipped. */
  apiKey?: string;
  /** `OPENAI_BASE_URL` (an http(s) URL ending before `/chat/completions`, e.g. `http://127.0.0.1:8080/v1`); default the SDK's. */
  baseURL?: string;
  /** Chat model for generated content (`OPENAI_MODEL`, default `gpt-4o-mini`). */
  model: string;
  /** Speech-to-text model (`OPENAI_TRANSCRIBE_MODEL`, default `whisper-1`, which returns timed segments). */
  transcribeModel: string;
  /** Token budget of the text in one request; longer texts are chunked (`OPENAI_MAX_INPUT_TOKENS`, default 12000). */
  maxInputTokens: number;
  /** Timeout of one request (`OPENAI_TIMEOUT`, default 2m). */
  timeoutMs: number;
  /** The OpenAI client's bulkhead: requests at once per process (`OPENAI_CONCURRENCY`, default 4). */
  concurrency: number;
  /** Retries of one request on 429, 5xx and network errors, honouring `Retry-After` (`OPENAI_MAX_RETRIES`, default 4). */
  maxRetries: number;
}

export interface S3ReadConfig {
  /** `S3_ENDPOINT`; absent for AWS. */
  endpoint?: string;
  /** `S3_REGION`, default us-east-1. */
  region: string;
  /** `S3_ACCESS_KEY_ID` + `S3_SECRET_ACCESS_KEY`; absent: the AWS credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** `S3_FORCE_PATH_STYLE`, default true when `S3_ENDPOINT` is set. */
  forcePathStyle: boolean;
}

function parseUrls(name: string, value: string, schemes: string[]): string[] {
  const urls = value.split(',').map((u) => u.trim()).filter(Boolean);
  for (const u of urls) {
    let scheme: string;
    try {
      scheme = new URL(u).protocol.replace(/:$/, '');
    } catch {
      throw new ConfigError(`${name} entry "${u}" is not a URL (example: ${schemes[0]}://127.0.0.1:${name === 'NATS_URL' ? 4222 : 6379})`);
    }
    if (!schemes.includes(scheme)) throw new ConfigError(`${name} entry "${u}" must use ${schemes.join(' or ')}://`);
  }
  if (urls.length === 0) throw new ConfigError(`${name} is empty`);
  return urls;
}

const RETENTIONS: Retention[] = ['limits', 'interest', 'workqueue'];

function parseStreams(raw: RawEnv): StreamSettings {
  const retention = (raw.NATS_STREAM_RETENTION ?? 'limits').toLowerCase() as Retention;
  if (!RETENTIONS.includes(retention)) {
    throw new ConfigError(`NATS_STREAM_RETENTION="${raw.NATS_STREAM_RETENTION}" must be one of ${RETENTIONS.join(', ')}`);
  }
  const maxAgeMs = raw.NATS_STREAM_MAX_AGE ? parseDuration('NATS_STREAM_MAX_AGE', raw.NATS_STREAM_MAX_AGE, 1000) : 7 * 86_400_000;
  const duplicateWindowMs = raw.NATS_DUPLICATE_WINDOW
    ? parseDuration('NATS_DUPLICATE_WINDOW', raw.NATS_DUPLICATE_WINDOW, 100)
    : 120_000;
  if (duplicateWindowMs > maxAgeMs) {
    throw new ConfigError('NATS_DUPLICATE_WINDOW must not be longer than NATS_STREAM_MAX_AGE (JetStream refuses it)');
  }
  return {
    retention,
    maxAgeMs,
    replicas: raw.NATS_STREAM_REPLICAS ? parseInteger('NATS_STREAM_REPLICAS', raw.NATS_STREAM_REPLICAS, 1, 5) : 1,
    duplicateWindowMs,
    deadLetterMaxAgeMs: raw.NATS_DEADLETTER_MAX_AGE
      ? parseDuration('NATS_DEADLETTER_MAX_AGE', raw.NATS_DEADLETTER_MAX_AGE, 1000)
      : 30 * 86_400_000,
  };
}

function parseKinds(raw: RawEnv): ProcessorKindName[] {
  if (!raw.PROCESSOR_KINDS) return [...PROCESSOR_KIND_NAMES];
  const kinds = raw.PROCESSOR_KINDS.split(',').map((k) => k.trim().toLowerCase()).filter(Boolean);
  const unknown = kinds.filter((k) => !(PROCESSOR_KIND_NAMES as readonly string[]).includes(k));
  if (kinds.length === 0 || unknown.length > 0) {
    throw new ConfigError(`PROCESSOR_KINDS="${raw.PROCESSOR_KINDS}" must list some of ${PROCESSOR_KIND_NAMES.join(', ')}`);
  }
  return PROCESSOR_KIND_NAMES.filter((k) => kinds.includes(k));
}

function parseRenditions(value: string | undefined): number[] {
  if (value === undefined) return [720];
  if (value.trim().toLowerCase() === 'none') return [];
  const heights = value.split(',').map((v) => v.trim().toLowerCase()).filter(Boolean).map((v) => {
    const m = /^(\d{2,4})p?$/.exec(v);
    const h = m ? Number(m[1]) : NaN;
    if (!(h >= 72 && h <= 2160) || h % 2 !== 0) throw new ConfigError(`VIDEO_RENDITIONS entry "${v}" must be an even height from 72p to 2160p (example: 720p,480p), or "none"`);
    return h;
  });
  if (heights.length === 0) throw new ConfigError('VIDEO_RENDITIONS is empty (use "none" for no rendition)');
  return [...new Set(heights)].sort((a, b) => b - a);
}

function parseProcessing(raw: RawEnv): Pick<ProcessorsConfig, 'kinds' | 'video' | 'documents' | 'openai'> {
  if (raw.OPENAI_BASE_URL && !/^https?:\/\/[^\s]+$/.test(raw.OPENAI_BASE_URL)) {
    throw new ConfigError(`OPENAI_BASE_URL="${raw.OPENAI_BASE_URL}" must be an http(s) URL (example: https://api.openai.com/v1)`);
  }
  const chunk = raw.TRANSCRIBE_CHUNK_DURATION ? parseDuration('TRANSCRIBE_CHUNK_DURATION', raw.TRANSCRIBE_CHUNK_DURATION, 1000) : 600_000;
  if (chunk > 3_600_000) throw new ConfigError('TRANSCRIBE_CHUNK_DURATION must be at most 60m (the audio API takes files up to 25 MB)');
  return {
    kinds: parseKinds(raw),
    video: {
      renditions: parseRenditions(raw.VIDEO_RENDITIONS),
      previewFrames: raw.VIDEO_PREVIEW_FRAMES ? parseInteger('VIDEO_PREVIEW_FRAMES', raw.VIDEO_PREVIEW_FRAMES, 0, 20) : 4,
      ffmpegThreads: raw.FFMPEG_THREADS ? parseInteger('FFMPEG_THREADS', raw.FFMPEG_THREADS, 0, 64) : 2,
      concurrency: raw.VIDEO_CONCURRENCY ? parseInteger('VIDEO_CONCURRENCY', raw.VIDEO_CONCURRENCY, 1, 64) : 1,
      transcribeChunkSeconds: Math.round(chunk / 1000),
    },
    documents: {
      maxBytes: raw.MAX_DOCUMENT_BYTES ? parseSize('MAX_DOCUMENT_BYTES', raw.MAX_DOCUMENT_BYTES, 0) : 64 * 1024 ** 2,
      maxTextBytes: raw.MAX_DOCUMENT_TEXT_BYTES ? parseSize('MAX_DOCUMENT_TEXT_BYTES', raw.MAX_DOCUMENT_TEXT_BYTES, 0) : 8 * 1024 ** 2,
    },
    openai: {
      apiKey: raw.OPENAI_API_KEY?.trim(),
      baseURL: raw.OPENAI_BASE_URL?.replace(/\/+$/, ''),
      model: raw.OPENAI_MODEL?.trim() ?? 'gpt-4o-mini',
      transcribeModel: raw.OPENAI_TRANSCRIBE_MODEL?.trim() ?? 'whisper-1',
      maxInputTokens: raw.OPENAI_MAX_INPUT_TOKENS ? parseInteger('OPENAI_MAX_INPUT_TOKENS', raw.OPENAI_MAX_INPUT_TOKENS, 200, 1_000_000) : 12_000,
      timeoutMs: raw.OPENAI_TIMEOUT ? parseDuration('OPENAI_TIMEOUT', raw.OPENAI_TIMEOUT, 100) : 120_000,
      concurrency: raw.OPENAI_CONCURRENCY ? parseInteger('OPENAI_CONCURRENCY', raw.OPENAI_CONCURRENCY, 1, 256) : 4,
      maxRetries: raw.OPENAI_MAX_RETRIES ? parseInteger('OPENAI_MAX_RETRIES', raw.OPENAI_MAX_RETRIES, 0, 20) : 4,
    },
  };
}

/**
 * Turns raw strings into a validated {@link PipelineConfig}: what the server parses when the runtime
 * does not run in its process.
 */
const configFail = (message: string): never => {
  throw new ConfigError(message);
};

export function parsePipelineConfig(raw: RawEnv): PipelineConfig {
  const dataDir = path.resolve(raw.DATA_DIR ?? './data');

  const streamKeys = (['NATS_STREAM_RETENTION', 'NATS_STREAM_MAX_AGE', 'NATS_STREAM_REPLICAS', 'NATS_DUPLICATE_WINDOW', 'NATS_DEADLETTER_MAX_AGE'] as const)
    .filter((k) => raw[k] && !raw.NATS_URL);
  if (streamKeys.length > 0) throw new ConfigError(`${streamKeys.join(', ')} set but NATS_URL is not: set NATS_URL to use JetStream`);

  const queue: QueueConfig = raw.NATS_URL
    ? { kind: 'jetstream', servers: parseUrls('NATS_URL', raw.NATS_URL, ['nats', 'tls']), streams: parseStreams(raw) }
    : { kind: 'directory', dir: path.join(dataDir, 'events') };
  const statusTtlMs = raw.PROCESSOR_STATUS_TTL ? parseDuration('PROCESSOR_STATUS_TTL', raw.PROCESSOR_STATUS_TTL, 1000) : 30 * 86_400_000;
  const status: StatusConfig = raw.REDIS_URL
    ? {
        kind: 'redis',
        url: parseUrls('REDIS_URL', raw.REDIS_URL, ['redis', 'rediss'])[0],
        prefix: raw.REDIS_PREFIX ?? 'tus:',
        ttlMs: statusTtlMs,
      }
    : { kind: 'file', dir: path.join(dataDir, 'processing'), ttlMs: statusTtlMs };
  return {
    dataDir,
    queue,
    status,
    tracing: parseTracing(raw, configFail),
    breakers: parseBreakers(raw, (name, value) => parseDuration(name, value), configFail),
    redisGuard: parseRedisGuard(raw, (name, value) => parseDuration(name, value), configFail),
    s3: {
      endpoint: raw.S3_ENDPOINT,
      region: raw.S3_REGION ?? 'us-east-1',
      credentials:
        raw.S3_ACCESS_KEY_ID && raw.S3_SECRET_ACCESS_KEY
          ? { accessKeyId: raw.S3_ACCESS_KEY_ID, secretAccessKey: raw.S3_SECRET_ACCESS_KEY }
          : undefined,
      forcePathStyle: raw.S3_FORCE_PATH_STYLE ? !['0', 'false', 'no', 'off'].includes(raw.S3_FORCE_PATH_STYLE.trim().toLowerCase()) : !!raw.S3_ENDPOINT,
    },
  };
}

/** Turns raw strings into a validated {@link ProcessorsConfig}, filling documented defaults. */
export function parseConfig(raw: RawEnv): ProcessorsConfig {
  const logLevel = parseLogLevel(raw.LOG_LEVEL);
  const pipeline = parsePipelineConfig(raw);

  const ackWaitMs = raw.PROCESSOR_ACK_WAIT ? parseDuration('PROCESSOR_ACK_WAIT', raw.PROCESSOR_ACK_WAIT, 300) : 30_000;
  const baseMs = raw.PROCESSOR_BACKOFF_BASE ? parseDuration('PROCESSOR_BACKOFF_BASE', raw.PROCESSOR_BACKOFF_BASE) : 1000;
  const maxMs = raw.PROCESSOR_BACKOFF_MAX ? parseDuration('PROCESSOR_BACKOFF_MAX', raw.PROCESSOR_BACKOFF_MAX) : 300_000;
  if (maxMs < baseMs) throw new ConfigError('PROCESSOR_BACKOFF_MAX must not be shorter than PROCESSOR_BACKOFF_BASE');

  return {
    ...parseProcessing(raw),
    ...pipeline,
    host: raw.HOST ?? '0.0.0.0',
    port: raw.PROCESSORS_PORT ? parseInteger('PROCESSORS_PORT', raw.PROCESSORS_PORT, 0, 65535) : 1081,
    concurrency: raw.PROCESSOR_CONCURRENCY ? parseInteger('PROCESSOR_CONCURRENCY', raw.PROCESSOR_CONCURRENCY, 1, 256) : 4,
    maxDeliver: raw.PROCESSOR_MAX_DELIVER ? parseInteger('PROCESSOR_MAX_DELIVER', raw.PROCESSOR_MAX_DELIVER, 1, 1000) : 5,
    maxPostpones: raw.PROCESSOR_MAX_POSTPONES ? parseInteger('PROCESSOR_MAX_POSTPONES', raw.PROCESSOR_MAX_POSTPONES, 0, 1000) : 20,
    ackWaitMs,
    jobTimeoutMs: raw.PROCESSOR_JOB_TIMEOUT ? parseDuration('PROCESSOR_JOB_TIMEOUT', raw.PROCESSOR_JOB_TIMEOUT, 100) : 900_000,
    backoff: { baseMs, maxMs },
    highPriorityMaxBytes: raw.PROCESSOR_HIGH_PRIORITY_MAX_BYTES
      ? parseSize('PROCESSOR_HIGH_PRIORITY_MAX_BYTES', raw.PROCESSOR_HIGH_PRIORITY_MAX_BYTES, 0)
      : 16 * 1024 ** 2,
    priorityFromMetadata: raw.PROCESSOR_PRIORITY_METADATA ? parseBoolean('PROCESSOR_PRIORITY_METADATA', raw.PROCESSOR_PRIORITY_METADATA) : true,
    shutdownTimeoutMs: raw.SHUTDOWN_TIMEOUT_MS ? parseInteger('SHUTDOWN_TIMEOUT_MS', raw.SHUTDOWN_TIMEOUT_MS, 0, 3_600_000) : 10_000,
    logLevel,
    nodeName: raw.NODE_NAME ?? os.hostname(),
  };
}
