/**
 * The only module that reads `process.env`. Everything else receives a typed {@link Config}.
 */
import { ENV_KEYS as PROCESSOR_ENV_KEYS } from '@tus-edge/processors';
import { parseConfig, type Config } from './config.js';

/** The environment variables this server understands, as raw strings. */
export const ENV_KEYS = [
  'PORT',
  'HOST',
  'TUS_PATH',
  'DATA_DIR',
  'MAX_SIZE',
  'MAX_METADATA_BYTES',
  'UPLOAD_EXPIRY',
  'EXPIRY_SWEEP_INTERVAL',
  'CORS_ORIGINS',
  'SHUTDOWN_TIMEOUT_MS',
  'LOG_LEVEL',
  'NODE_NAME',
  'FSYNC',
  'TRUST_PROXY',
  'IDLE_TIMEOUT',
  'S3_BUCKET',
  'S3_ENDPOINT',
  'S3_REGION',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'S3_FORCE_PATH_STYLE',
  'S3_STAGING_DIR',
  'S3_PART_SIZE',
  'S3_PART_CONCURRENCY',
  'S3_UNIFORM_PARTS',
  'S3_REQUEST_TIMEOUT',
  'STAGING_MIN_FREE',
  'REDIS_URL',
  'REDIS_PREFIX',
  'LOCK_TTL',
  'LOCK_ACQUIRE_TIMEOUT',
  'SINGLE_NODE',
  'PROCESSORS_IN_PROCESS',
] as const;

/** Server variables plus those of the processor runtime (NATS_URL, PROCESSOR_*, …), validated together. */
export type RawEnv = Partial<Record<(typeof ENV_KEYS)[number] | (typeof PROCESSOR_ENV_KEYS)[number], string>>;

/** Reads the known variables from `env` (default `process.env`) and validates them. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: RawEnv = {};
  for (const key of [...ENV_KEYS, ...PROCESSOR_ENV_KEYS]) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  return parseConfig(raw);
}
