/**
 * The only module of the processors package that reads `process.env`. Everything else receives a
 * typed {@link ProcessorsConfig}. The names are shared with the server (`DATA_DIR`, `NATS_URL`, …).
 */
import { parseConfig, type ProcessorsConfig } from './config.js';

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
] as const;

export type RawEnv = Partial<Record<(typeof ENV_KEYS)[number], string>>;

/** Picks the known variables out of `env` (default `process.env`); empty strings count as unset. */
export function readEnv(env: NodeJS.ProcessEnv = process.env): RawEnv {
  const raw: RawEnv = {};
  for (const key of ENV_KEYS) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') raw[key] = value;
  }
  return raw;
}

/** `parseConfig(readEnv())`: throws {@link ConfigError} naming the variable on invalid input. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ProcessorsConfig {
  return parseConfig(readEnv(env));
}
