/**
 * The only module that reads `process.env`. Everything else receives a typed {@link Config}; the
 * list of variables and their validation are in `config.ts`.
 */
import { ENV_KEYS, parseConfig, PROCESSOR_ENV_KEYS, type Config, type RawEnv } from './config.js';

/** Reads the known variables from `env` (default `process.env`) and validates them. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: RawEnv = {};
  for (const key of [...ENV_KEYS, ...PROCESSOR_ENV_KEYS]) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  return parseConfig(raw);
}
