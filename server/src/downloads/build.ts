import type { Config } from '../config/config.js';
import type { ObjectTiers, Presigner } from '../tiers/types.js';
import type { DownloadDeps } from './serve.js';

/** The download settings from the config (`DOWNLOAD_CACHE_MAX_AGE`, `PRESIGNED_URL_TTL`, `AUTH_MODE`). */
export function buildDownloads(config: Config, tiers: ObjectTiers, presigner: Presigner | undefined, now: () => Date): DownloadDeps {
  return {
    tiers,
    presigner,
    presignSeconds: Math.floor(config.lifecycle.presignedUrlTtlMs / 1000),
    maxAgeSeconds: config.lifecycle.cacheMaxAgeSeconds,
    authOn: config.security.auth.mode !== 'none',
    now,
  };
}
