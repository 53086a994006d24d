import os from 'node:os';
import path from 'node:path';
import {
  ConfigError, ENV_KEYS as PROCESSOR_ENV_KEYS, parseBoolean, parseConfig as parseProcessorsConfig, parseDuration, parseInteger,
  parseLogLevel, parsePipelineConfig, parseSize, type LogLevel, type PipelineConfig, type ProcessorsConfig,
} from '@tus-edge/processors';
import { LIFECYCLE_ENV_KEYS, parseLifecycle, type LifecycleConfig } from './lifecycle.js';
import { parseProtocols, type ProtocolsConfig } from './protocols.js';
import { parseSecurity, type SecurityConfig } from './security.js';
import { DEDUP_ENV_KEYS, parseDedup, type DedupConfig } from './dedup.js';
import { PROCESS_ENV_KEYS, parseProcessRequests, type ProcessRequestConfig } from './process.js';
import { ANALYTICS_ENV_KEYS, parseAnalytics, type AnalyticsConfig } from './analytics.js';
import { parseWebhooks, WEBHOOK_ENV_KEYS, type WebhooksConfig } from './webhooks.js';

export { ConfigError, PROCESSOR_ENV_KEYS, type LogLevel };

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
  'FSYNC_INTERVAL',
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
  'AUTH_MODE',
  'AUTH_JWT_SECRET',
  'AUTH_JWKS_URL',
  'AUTH_JWT_ISSUER',
  'AUTH_JWT_AUDIENCE',
  'AUTH_CLOCK_TOLERANCE',
  'AUTH_TENANT_CLAIM',
  'SIGNING_SECRET',
  'UPLOAD_TOKEN_TTL',
  'SIGNED_URL_TTL',
  'METRICS_TOKEN',
  'OPERATOR_TOKEN',
  'ALLOWED_TYPES',
  'RATE_LIMIT_REQUESTS',
  'RATE_LIMIT_CREATIONS',
  'RATE_LIMIT_BYTES',
  'QUOTA_BYTES',
  'QUOTA_UPLOADS',
  'REQUEST_TIMEOUT',
  'MAX_HEADER_SIZE',
  ...LIFECYCLE_ENV_KEYS,
  ...DEDUP_ENV_KEYS,
  ...PROCESS_ENV_KEYS,
  ...ANALYTICS_ENV_KEYS,
  ...WEBHOOK_ENV_KEYS,
  'DATABASE_URL',
  'DATABASE_POOL_SIZE',
  'CATALOGUE_RECORD_GRACE',
  'HTTP2',
  'TLS_CERT_FILE',
  'TLS_KEY_FILE',
  'INTERIM_RESPONSES',
] as const;

/** Server variables plus those of the processor runtime (NATS_URL, PROCESSOR_*, …), as raw strings. */
export type RawEnv = Partial<Record<(typeof ENV_KEYS)[number] | (typeof PROCESSOR_ENV_KEYS)[number], string>>;


/** Validated server configuration. Every field has a documented default. */
export interface Config {
  /** TCP port (`PORT`, default 1080; 0 picks a free port). */
  port: number;
  /** Interface to bind (`HOST`, default `0.0.0.0`). */
  host: string;
  /** Mount path of the tus endpoint, without trailing slash (`TUS_PATH`, default `/files`). */
  tusPath: string;
  /** Root directory for uploads, metadata and the event outbox (`DATA_DIR`, default `./data`). */
  dataDir: string;
  /** Largest accepted upload in bytes, advertised as `Tus-Max-Size` (`MAX_SIZE`, default 16 GiB). */
  maxSize: number;
  /** Largest accepted `Upload-Metadata` header in bytes (`MAX_METADATA_BYTES`, default 4 KiB). */
  maxMetadataBytes: number;
  /** Unfinished uploads expire this long after their last write (`UPLOAD_EXPIRY`, default 24h). */
  uploadExpiryMs: number;
  /** How often expired uploads are swept (`EXPIRY_SWEEP_INTERVAL`, default 10m). */
  expirySweepIntervalMs: number;
  /** Allowed CORS origins; `['*']` allows any (`CORS_ORIGINS`, comma-separated, default `*`). */
  corsOrigins: string[];
  /** Grace period for in-flight uploads on SIGTERM (`SHUTDOWN_TIMEOUT_MS`, default 10000). */
  shutdownTimeoutMs: number;
  /** Log threshold (`LOG_LEVEL`, default `info`). */
  logLevel: LogLevel;
  /** Name of this node in logs and events (`NODE_NAME`, default the host name). */
  nodeName: string;
  /**
   * Make received bytes durable (`FSYNC`, default true). False: never flush; a power loss may leave an
   * upload's offset past the bytes that reached the disk.
   */
  fsync: boolean;
  /**
   * With `fsync`: how long received bytes may wait before a background flush makes them durable
   * (`FSYNC_INTERVAL`, default 1s; `0`: flush before acknowledging every PATCH). With an interval, a
   * process crash loses nothing acknowledged; after a power loss an unfinished upload resumes from its
   * last flushed offset (never past its bytes); an upload is flushed before it is declared finished.
   * Its watermark log lives in `DATA_DIR/durable/`. Refused with `FSYNC=false`.
   */
  fsyncIntervalMs: number;
  /** Build upload URLs from X-Forwarded-Proto/Host (`TRUST_PROXY`, default false). */
  trustProxy: boolean;
  /** Close a connection that carries no traffic for this long (`IDLE_TIMEOUT`, default 60s). */
  idleTimeoutMs: number;
  /** Where upload bytes live: files under `DATA_DIR/uploads` (default), or S3 when `S3_BUCKET` is set. */
  storage: StorageConfig;
  /** Where upload records and locks live: in this process (default), or Redis when `REDIS_URL` is set. */
  coordination: CoordinationConfig;
  /** How long a request waits for an upload's lock before 423 (`LOCK_ACQUIRE_TIMEOUT`, default 10s). */
  lockAcquireTimeoutMs: number;
  /** Directory for request bodies that must be verified before they reach S3 (`S3_STAGING_DIR`). */
  stagingDir: string;
  /** Refuse new writes with 503 while the staging disk has less free space (`STAGING_MIN_FREE`, default 1GiB). */
  stagingMinFreeBytes: number;
  /**
   * The part of the processors' settings the server uses (processors/README.md), read from the same
   * environment: `queue` says where completion events go (JetStream with `NATS_URL`, else the
   * directory outbox), `status` where processing status is read, and results live under `dataDir`.
   */
  processing: PipelineConfig;
  /**
   * Whether the processor runtime runs in this process (`PROCESSORS_IN_PROCESS`, default true without
   * `NATS_URL`); only then are all of its settings parsed (`runtime`).
   */
  processors: { inProcess: false } | { inProcess: true; runtime: ProcessorsConfig };
  /** Authentication, upload tokens, signed URLs, rate limits, quotas, content checks (config/security.ts). */
  security: SecurityConfig;
  /** Retention and tier policies, the maintenance job, cold storage, download caching and redirects (config/lifecycle.ts). */
  lifecycle: LifecycleConfig;
  /** Content hashing, deduplication and versions of the file catalogue (config/dedup.ts). */
  dedup: DedupConfig;
  /** Processing on request: lanes by plan and the cap of a request's priority (config/process.ts). */
  processRequests: ProcessRequestConfig;
  /** The job history and its daily rollup (config/analytics.ts). */
  analytics: AnalyticsConfig;
  /**
   * The file catalogue's database: PostgreSQL when `DATABASE_URL` is set (shared by every node), else
   * SQLite in `DATA_DIR/catalogue.db` (one node).
   */
  catalogue: CatalogueConfig;
  /**
   * How long a finished upload's record is kept after it was handed over to the catalogue
   * (`CATALOGUE_RECORD_GRACE`, default 1h); afterwards HEAD/GET of the upload are answered from the catalogue.
   */
  catalogueRecordGraceMs: number;
  /** HTTP/2 and the IETF draft's interim responses (config/protocols.ts). */
  protocols: ProtocolsConfig;
  /** Webhook operator endpoints, delivery timeouts and retries, private targets (config/webhooks.ts). */
  webhooks: WebhooksConfig;
}

/** The catalogue database, chosen by `DATABASE_URL`. */
export type CatalogueConfig =
  | { kind: 'sqlite'; file: string }
  | {
      kind: 'postgres';
      /** `DATABASE_URL`, a postgres:// or postgresql:// URL. */
      url: string;
      /** Connections per process (`DATABASE_POOL_SIZE`, default 10). */
      poolSize: number;
    };

/**
 * Whether every node that may serve an upload reads the same catalogue: PostgreSQL, or one process. Only
 * then may the bytes of a duplicate be deleted, since another node finds the shared object through the
 * catalogue; with `REDIS_URL` and a SQLite catalogue per node, a duplicate keeps its own bytes.
 */
export function catalogueSharedByEveryNode(config: Pick<Config, 'catalogue' | 'coordination'>): boolean {
  return config.catalogue.kind === 'postgres' || config.coordination.kind === 'process';
}

/** Upload storage, chosen by `S3_BUCKET`. */
export type StorageConfig = { kind: 'file' } | ({ kind: 's3' } & S3Config);

/** Upload records and locks, chosen by `REDIS_URL`: in this process (files, in-process locks) or shared in Redis. */
export type CoordinationConfig = { kind: 'process' } | ({ kind: 'redis' } & RedisConfig);

export interface S3Config {
  bucket: string;
  /** Custom endpoint for S3-compatible stores (`S3_ENDPOINT`); absent for AWS. */
  endpoint?: string;
  /** `S3_REGION`, default us-east-1. */
  region: string;
  /** Static credentials; without them the standard AWS credential chain is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Path-style addressing (`S3_FORCE_PATH_STYLE`, default true when `S3_ENDPOINT` is set). */
  forcePathStyle: boolean;
  /** Preferred multipart part size (`S3_PART_SIZE`, default 16MiB, at least 5MiB). */
  partSize: number;
  /** Parts uploaded at once per process (`S3_PART_CONCURRENCY`, default 8). */
  partConcurrency: number;
  /**
   * Every part but the last of the same size (`S3_UNIFORM_PARTS`), for stores that demand it
   * (Cloudflare R2: "All non-trailing parts must have the same length"). Default: true for an
   * `*.r2.cloudflarestorage.com` endpoint, else false (parts then fit each PATCH, see TusS3Store).
   */
  uniformParts: boolean;
  /** An S3 request whose socket is silent this long fails (`S3_REQUEST_TIMEOUT`, default 30s). */
  requestTimeoutMs: number;
}

export interface RedisConfig {
  url: string;
  /** Prefix of every key (`REDIS_PREFIX`, default `tus:`), so several deployments can share a Redis. */
  prefix: string;
  /** Lock lifetime without renewal; a dead node's locks free themselves after it (`LOCK_TTL`, default 5s). */
  lockTtlMs: number;
}

function parseTusPath(value: string): string {
  const trimmed = value.trim().replace(/\/+$/, '');
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(trimmed) || trimmed === '' || trimmed.includes('//')) {
    throw new ConfigError(`TUS_PATH="${value}" must be an absolute URL path such as /files`);
  }
  return trimmed;
}

function parseOrigins(value: string): string[] {
  const origins = value.split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of origins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError(`CORS_ORIGINS entry "${origin}" must be * or an origin such as https://app.example.com`);
    }
  }
  if (origins.length === 0) throw new ConfigError('CORS_ORIGINS is empty');
  return origins;
}

/** The background flush's default interval (BENCHMARKS.md, issue 16: faster than a flush per PATCH). */
const DEFAULT_FSYNC_INTERVAL_MS = 1000;

/** `FSYNC` and `FSYNC_INTERVAL`; an interval without flushing is a contradiction. */
function parseFsync(raw: RawEnv): Pick<Config, 'fsync' | 'fsyncIntervalMs'> {
  const fsync = raw.FSYNC ? parseBoolean('FSYNC', raw.FSYNC) : true;
  if (!fsync && raw.FSYNC_INTERVAL) {
    throw new ConfigError('FSYNC_INTERVAL is set but FSYNC=false never flushes: unset one of them');
  }
  const fsyncIntervalMs = raw.FSYNC_INTERVAL ? parseDuration('FSYNC_INTERVAL', raw.FSYNC_INTERVAL) : fsync ? DEFAULT_FSYNC_INTERVAL_MS : 0;
  if (fsyncIntervalMs > 60_000) throw new ConfigError('FSYNC_INTERVAL must be at most 60s');
  return { fsync, fsyncIntervalMs };
}

/** Turns raw strings into a validated {@link Config}, filling documented defaults. */
export function parseConfig(raw: RawEnv): Config {
  const logLevel = parseLogLevel(raw.LOG_LEVEL);
  const uploadExpiryMs = raw.UPLOAD_EXPIRY ? parseDuration('UPLOAD_EXPIRY', raw.UPLOAD_EXPIRY) : 86_400_000;
  if (uploadExpiryMs < 1000) throw new ConfigError('UPLOAD_EXPIRY must be at least 1s');
  return {
    port: raw.PORT ? parseInteger('PORT', raw.PORT, 0, 65535) : 1080,
    host: raw.HOST ?? '0.0.0.0',
    tusPath: parseTusPath(raw.TUS_PATH ?? '/files'),
    dataDir: path.resolve(raw.DATA_DIR ?? './data'),
    maxSize: raw.MAX_SIZE ? parseSize('MAX_SIZE', raw.MAX_SIZE) : 16 * 1024 ** 3,
    maxMetadataBytes: raw.MAX_METADATA_BYTES ? parseSize('MAX_METADATA_BYTES', raw.MAX_METADATA_BYTES) : 4096,
    uploadExpiryMs,
    expirySweepIntervalMs: raw.EXPIRY_SWEEP_INTERVAL
      ? Math.max(100, parseDuration('EXPIRY_SWEEP_INTERVAL', raw.EXPIRY_SWEEP_INTERVAL))
      : 600_000,
    corsOrigins: parseOrigins(raw.CORS_ORIGINS ?? '*'),
    shutdownTimeoutMs: raw.SHUTDOWN_TIMEOUT_MS
      ? parseInteger('SHUTDOWN_TIMEOUT_MS', raw.SHUTDOWN_TIMEOUT_MS, 0, 3_600_000)
      : 10_000,
    logLevel,
    nodeName: raw.NODE_NAME ?? os.hostname(),
    ...parseFsync(raw),
    idleTimeoutMs: raw.IDLE_TIMEOUT ? Math.max(1000, parseDuration('IDLE_TIMEOUT', raw.IDLE_TIMEOUT)) : 60_000,
    trustProxy: raw.TRUST_PROXY ? parseBoolean('TRUST_PROXY', raw.TRUST_PROXY) : false,
    ...parseDistributed(raw),
    ...parseProcessing(raw),
    security: parseSecurity(raw),
    lifecycle: parseLifecycle(raw, path.resolve(raw.DATA_DIR ?? './data')),
    dedup: parseDedup(raw),
    processRequests: parseProcessRequests(raw),
    analytics: parseAnalytics(raw),
    ...parseCatalogue(raw),
    protocols: parseProtocols(raw),
    webhooks: parseWebhooks(raw),
  };
}

/** `DATABASE_URL` (PostgreSQL) or the SQLite file under `DATA_DIR`; the record grace after hand-over. */
function parseCatalogue(raw: RawEnv): Pick<Config, 'catalogue' | 'catalogueRecordGraceMs'> {
  const catalogueRecordGraceMs = raw.CATALOGUE_RECORD_GRACE ? parseDuration('CATALOGUE_RECORD_GRACE', raw.CATALOGUE_RECORD_GRACE) : 3_600_000;
  if (raw.DATABASE_POOL_SIZE && !raw.DATABASE_URL) {
    throw new ConfigError('DATABASE_POOL_SIZE is set but DATABASE_URL is not: the embedded catalogue (SQLite) has no pool');
  }
  if (!raw.DATABASE_URL) {
    return { catalogue: { kind: 'sqlite', file: path.join(path.resolve(raw.DATA_DIR ?? './data'), 'catalogue.db') }, catalogueRecordGraceMs };
  }
  if (!/^postgres(ql)?:\/\/[^\s]+$/.test(raw.DATABASE_URL)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const poolSize = raw.DATABASE_POOL_SIZE ? parseInteger('DATABASE_POOL_SIZE', raw.DATABASE_POOL_SIZE, 1, 1000) : 10;
  return { catalogue: { kind: 'postgres', url: raw.DATABASE_URL, poolSize }, catalogueRecordGraceMs };
}

/**
 * The processors' own validation: of the whole runtime configuration when it runs in this process,
 * else only of the pipeline part the server uses.
 */
function parseProcessing(raw: RawEnv): Pick<Config, 'processing' | 'processors'> {
  const inProcess = raw.PROCESSORS_IN_PROCESS ? parseBoolean('PROCESSORS_IN_PROCESS', raw.PROCESSORS_IN_PROCESS) : !raw.NATS_URL;
  if (!inProcess) return { processing: parsePipelineConfig(raw), processors: { inProcess } };
  const runtime = parseProcessorsConfig(raw);
  return { processing: runtime, processors: { inProcess, runtime } };
}

type DistributedConfig = Pick<Config, 'storage' | 'coordination' | 'lockAcquireTimeoutMs' | 'stagingDir' | 'stagingMinFreeBytes'>;

/** S3 and Redis settings, and the rule that S3 without Redis is only allowed on a declared single node. */
function parseDistributed(raw: RawEnv): DistributedConfig {
  const dataDir = path.resolve(raw.DATA_DIR ?? './data');
  const s3KeysWithoutBucket = (['S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] as const).filter((k) => raw[k] && !raw.S3_BUCKET);
  if (s3KeysWithoutBucket.length > 0) {
    throw new ConfigError(`${s3KeysWithoutBucket.join(', ')} set but S3_BUCKET is not: set S3_BUCKET to use S3 storage`);
  }
  if (!!raw.S3_ACCESS_KEY_ID !== !!raw.S3_SECRET_ACCESS_KEY) {
    throw new ConfigError('set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither (to use the AWS credential chain)');
  }
  let storage: StorageConfig = { kind: 'file' };
  if (raw.S3_BUCKET) {
    if (raw.S3_ENDPOINT && !/^https?:\/\/[^\s]+$/.test(raw.S3_ENDPOINT)) {
      throw new ConfigError(`S3_ENDPOINT="${raw.S3_ENDPOINT}" must be an http(s) URL`);
    }
    const partSize = raw.S3_PART_SIZE ? parseSize('S3_PART_SIZE', raw.S3_PART_SIZE) : 16 * 1024 ** 2;
    if (partSize < 5 * 1024 ** 2) throw new ConfigError('S3_PART_SIZE must be at least 5MiB (the S3 minimum part size)');
    storage = {
      kind: 's3',
      bucket: raw.S3_BUCKET,
      endpoint: raw.S3_ENDPOINT,
      region: raw.S3_REGION ?? 'us-east-1',
      credentials: raw.S3_ACCESS_KEY_ID
        ? { accessKeyId: raw.S3_ACCESS_KEY_ID, secretAccessKey: raw.S3_SECRET_ACCESS_KEY! }
        : undefined,
      forcePathStyle: raw.S3_FORCE_PATH_STYLE ? parseBoolean('S3_FORCE_PATH_STYLE', raw.S3_FORCE_PATH_STYLE) : !!raw.S3_ENDPOINT,
      partSize,
      partConcurrency: raw.S3_PART_CONCURRENCY ? parseInteger('S3_PART_CONCURRENCY', raw.S3_PART_CONCURRENCY, 1, 256) : 8,
      uniformParts: raw.S3_UNIFORM_PARTS
        ? parseBoolean('S3_UNIFORM_PARTS', raw.S3_UNIFORM_PARTS)
        : !!raw.S3_ENDPOINT && /\.r2\.cloudflarestorage\.com$/i.test(new URL(raw.S3_ENDPOINT).hostname),
      requestTimeoutMs: raw.S3_REQUEST_TIMEOUT ? Math.max(100, parseDuration('S3_REQUEST_TIMEOUT', raw.S3_REQUEST_TIMEOUT)) : 30_000,
    };
  }
  let coordination: CoordinationConfig = { kind: 'process' };
  if (raw.REDIS_URL) {
    if (!/^rediss?:\/\/[^\s]+$/.test(raw.REDIS_URL)) throw new ConfigError(`REDIS_URL="${raw.REDIS_URL}" must be a redis:// or rediss:// URL`);
    const lockTtlMs = raw.LOCK_TTL ? parseDuration('LOCK_TTL', raw.LOCK_TTL) : 5000;
    if (lockTtlMs < 1000) throw new ConfigError('LOCK_TTL must be at least 1s');
    coordination = { kind: 'redis', url: raw.REDIS_URL, prefix: raw.REDIS_PREFIX ?? 'tus:', lockTtlMs };
  }
  const singleNode = raw.SINGLE_NODE ? parseBoolean('SINGLE_NODE', raw.SINGLE_NODE) : false;
  if (storage.kind === 's3' && coordination.kind === 'process' && !singleNode) {
    throw new ConfigError(
      'S3_BUCKET is set without REDIS_URL: nodes would not share locks or upload records. ' +
        'Set REDIS_URL, or SINGLE_NODE=true if this is the only node.',
    );
  }
  return {
    storage,
    coordination,
    lockAcquireTimeoutMs: raw.LOCK_ACQUIRE_TIMEOUT ? parseDuration('LOCK_ACQUIRE_TIMEOUT', raw.LOCK_ACQUIRE_TIMEOUT) : 10_000,
    stagingDir: path.resolve(raw.S3_STAGING_DIR ?? path.join(dataDir, 'staging')),
    stagingMinFreeBytes: raw.STAGING_MIN_FREE ? parseSize('STAGING_MIN_FREE', raw.STAGING_MIN_FREE) : 1024 ** 3,
  };
}
