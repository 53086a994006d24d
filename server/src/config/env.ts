/**
 * The only module that reads `process.env`. Everything else receives a typed {@link Config}.
 */
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
] as const;

export type RawEnv = Partial<Record<(typeof ENV_KEYS)[number], string>>;

/** Reads the known variables from `env` (default `process.env`) and validates them. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: RawEnv = {};
  for (const key of ENV_KEYS) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  return parseConfig(raw);
}
