/**
 * The only module of the processors package that reads `process.env`. Everything else receives a
 * typed {@link ProcessorsConfig}. The names are shared with the server (`DATA_DIR`, `NATS_URL`, …);
 * the list of them and their validation are in `config.ts`.
 */
import { ENV_KEYS, parseConfig, type ProcessorsConfig, type RawEnv } from './config.js';

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
