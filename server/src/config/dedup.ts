/**
 * Content hashing and versions of the file catalogue: how early a finished upload's sha256 is known
 * (HASH_*: the earlier, the sooner identical bytes are stored once and their processing results reused),
 * how many versions a file keeps (FILE_MAX_VERSIONS).
 */
import { ConfigError, parseBoolean, parseInteger, parseSize } from '@tus-edge/processors';
import type { RawEnv } from './config.js';

/** The variables this part reads (they join the server's ENV_KEYS). */
export const DEDUP_ENV_KEYS = ['HASH_WHILE_RECEIVING', 'HASH_AT_FINISH_MAX', 'HASH_TRACKED_MAX', 'FILE_MAX_VERSIONS'] as const;

/** Validated dedup and versions configuration. Every field has a documented default. */
export interface DedupConfig {
  /**
   * Hash an upload's bytes while they arrive, in memory, as long as its writes come in order to this
   * process (`HASH_WHILE_RECEIVING`, default true): its sha256 is then known the moment it finishes.
   * Measured cost on the PATCH path: BENCHMARKS.md, "Content hash while receiving".
   */
  hashWhileReceiving: boolean;
  /**
   * A finished upload whose hash was not followed while receiving (writes on another node, a restart,
   * a concatenation) is hashed at finish, by reading it back, up to this size (`HASH_AT_FINISH_MAX`,
   * default 16MiB; 0 = never). Larger ones get their sha256 from the fingerprint processor.
   */
  hashAtFinishMaxBytes: number;
  /** Most uploads whose running hash one process keeps at once; the least recently written is dropped (`HASH_TRACKED_MAX`, default 10000). */
  hashTrackedMax: number;
  /** Versions a file keeps; older ones are pruned and their objects released (`FILE_MAX_VERSIONS`, default 10; 0 = no limit). */
  maxVersions: number;
}

/** Turns the raw variables into a {@link DedupConfig}. */
export function parseDedup(raw: RawEnv): DedupConfig {
  const hashAtFinishMaxBytes = raw.HASH_AT_FINISH_MAX ? parseSize('HASH_AT_FINISH_MAX', raw.HASH_AT_FINISH_MAX, 0) : 16 * 1024 ** 2;
  if (hashAtFinishMaxBytes > 1024 ** 3) throw new ConfigError('HASH_AT_FINISH_MAX must be at most 1GiB (it is read back on the request that finishes the upload)');
  return {
    hashWhileReceiving: raw.HASH_WHILE_RECEIVING ? parseBoolean('HASH_WHILE_RECEIVING', raw.HASH_WHILE_RECEIVING) : true,
    hashAtFinishMaxBytes,
    hashTrackedMax: raw.HASH_TRACKED_MAX ? parseInteger('HASH_TRACKED_MAX', raw.HASH_TRACKED_MAX, 1, 10_000_000) : 10_000,
    maxVersions: raw.FILE_MAX_VERSIONS ? parseInteger('FILE_MAX_VERSIONS', raw.FILE_MAX_VERSIONS, 0, 1_000_000) : 10,
  };
}
