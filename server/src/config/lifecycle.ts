/**
 * Retention, storage tiers and downloads (`FILE_POLICIES`, `MAINTENANCE_INTERVAL`, `COLD_DIR`,
 * `S3_COLD_*`, `S3_PRESIGNED_DOWNLOADS`, `DOWNLOAD_*`), parsed from the raw environment strings.
 * Errors name the variable.
 */
import path from 'node:path';
import { ConfigError, parseBoolean, parseDuration } from '@tus-edge/processors';

/** The variables read here (joined to the server's ENV_KEYS in config.ts). */
export const LIFECYCLE_ENV_KEYS = [
  'FILE_POLICIES',
  'MAINTENANCE_INTERVAL',
  'COLD_DIR',
  'S3_COLD_STORAGE_CLASS',
  'S3_COLD_BUCKET',
  'S3_COLD_PREFIX',
  'S3_PRESIGNED_DOWNLOADS',
  'PRESIGNED_URL_TTL',
  'DOWNLOAD_CDN',
  'DOWNLOAD_CACHE_MAX_AGE',
] as const;

type LifecycleRaw = Partial<Record<(typeof LIFECYCLE_ENV_KEYS)[number] | 'DATA_DIR' | 'S3_BUCKET', string>>;

/**
 * One retention / tier / caching policy. A file matches when its media type matches one of `types`
 * (if any are given) and it carries one of `tags` (if any are given); a policy with neither matches
 * every file. The first matching policy that says something about an action decides it.
 */
export interface FilePolicy {
  /** Name in logs and in the `tus_maintenance_actions_total{policy}` counter (`[a-z0-9_-]`). */
  name: string;
  /** Media types, exact (`application/pdf`) or with a wildcard subtype (`video/*`, `*\/*`). */
  types: string[];
  /** Tags (exact). */
  tags: string[];
  /** Delete the file this long after it finished (`delete=30d`). */
  deleteAfterMs?: number;
  /** Move its bytes to the cold class after this long without a download (`cold=7d`). */
  coldAfterMs?: number;
  /** Whether downloads may be cached by shared caches (`cdn`, `cdn=false`). */
  cdn?: boolean;
}

/** Where cold objects go on S3: a storage class on the same key, or another bucket / prefix. */
export interface S3ColdConfig {
  /** `StorageClass` given to CopyObject (`S3_COLD_STORAGE_CLASS`, e.g. `GLACIER_IR`); absent: keep the class. */
  storageClass?: string;
  /** Bucket holding cold copies (`S3_COLD_BUCKET`, default the upload bucket). */
  bucket?: string;
  /** Key prefix of cold copies (`S3_COLD_PREFIX`, default `cold/` unless a storage class or another bucket is set). */
  prefix: string;
}

export interface LifecycleConfig {
  /** Retention, tier and caching policies, in order (`FILE_POLICIES`, default none). */
  policies: FilePolicy[];
  /** How often the `maintenance` job applies them (`MAINTENANCE_INTERVAL`, default 1h; at least 1s). */
  maintenanceIntervalMs: number;
  /** Directory of cold files on file storage (`COLD_DIR`, default `DATA_DIR/cold`). */
  coldDir: string;
  /** Cold objects on S3 (`S3_COLD_*`); only meaningful with `S3_BUCKET`. */
  s3Cold: S3ColdConfig;
  /**
   * On S3, answer downloads with a 302 to a presigned GetObject URL so bytes bypass the nodes
   * (`S3_PRESIGNED_DOWNLOADS`, default false). Refused without `S3_BUCKET`.
   */
  presignedDownloads: boolean;
  /** Life of a presigned download URL (`PRESIGNED_URL_TTL`, default 5m, at most 7d). */
  presignedUrlTtlMs: number;
  /** Downloads may be cached by shared caches unless a policy says otherwise (`DOWNLOAD_CDN`, default false). */
  cdnDefault: boolean;
  /** `max-age` of cacheable downloads, in seconds (`DOWNLOAD_CACHE_MAX_AGE`, default 1y). */
  cacheMaxAgeSeconds: number;
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const TYPE = /^([a-z0-9][a-z0-9!#$&^_.+-]{0,126}|\*)\/([a-z0-9][a-z0-9!#$&^_.+-]{0,126}|\*)$/;
const TAG = /^[^\s;,=]{1,64}$/;

/**
 * Parses `FILE_POLICIES`: policies separated by `;`, each `<name>: <clause> <clause>…` with clauses
 * `type=<media type>` (repeatable, `video/*` allowed), `tag=<tag>` (repeatable), `delete=<duration>`,
 * `cold=<duration>`, `cdn` / `cdn=true|false`. Durations take the usual units (`30s`, `12h`, `30d`).
 *
 * @example
 * parsePolicies('videos: type=video/* cold=30d cdn; scratch: tag=tmp delete=12h')
 */
export function parsePolicies(value: string): FilePolicy[] {
  const policies: FilePolicy[] = [];
  const fail = (what: string): never => {
    throw new ConfigError(`FILE_POLICIES: ${what} (example: "videos: type=video/* cold=30d cdn; scratch: tag=tmp delete=12h")`);
  };
  for (const text of value.split(';').map((p) => p.trim()).filter(Boolean)) {
    const colon = text.indexOf(':');
    if (colon < 0) fail(`"${text}" has no "<name>:"`);
    const name = text.slice(0, colon).trim();
    if (!NAME.test(name)) fail(`policy name "${name}" must be lower-case letters, digits, "_" or "-"`);
    if (policies.some((p) => p.name === name)) fail(`two policies are named "${name}"`);
    const policy: FilePolicy = { name, types: [], tags: [] };
    for (const clause of text.slice(colon + 1).trim().split(/\s+/).filter(Boolean)) {
      const eq = clause.indexOf('=');
      const key = eq < 0 ? clause : clause.slice(0, eq);
      const arg = eq < 0 ? undefined : clause.slice(eq + 1);
      const once = (field: keyof FilePolicy) => policy[field] !== undefined && fail(`policy "${name}" says ${key}= twice`);
      switch (key) {
        case 'type':
          if (!arg || !TYPE.test(arg.toLowerCase()) || (arg.startsWith('*/') && arg !== '*/*')) fail(`policy "${name}": "${clause}" is not a media type such as video/* or application/pdf`);
          policy.types.push(arg!.toLowerCase());
          break;
        case 'tag':
          if (!arg || !TAG.test(arg)) fail(`policy "${name}": "${clause}" needs a tag without spaces, ";", "," or "="`);
          policy.tags.push(arg!);
          break;
        case 'delete':
          once('deleteAfterMs');
          policy.deleteAfterMs = duration(name, clause, arg);
          break;
        case 'cold':
          once('coldAfterMs');
          policy.coldAfterMs = duration(name, clause, arg);
          break;
        case 'cdn':
          once('cdn');
          policy.cdn = arg === undefined ? true : parseBoolean(`FILE_POLICIES (policy "${name}", cdn)`, arg);
          break;
        default:
          fail(`policy "${name}": unknown clause "${clause}" (type=, tag=, delete=, cold=, cdn)`);
      }
    }
    if (policy.deleteAfterMs === undefined && policy.coldAfterMs === undefined && policy.cdn === undefined) {
      fail(`policy "${name}" does nothing: give it delete=, cold= or cdn`);
    }
    if (policy.deleteAfterMs !== undefined && policy.coldAfterMs !== undefined && policy.coldAfterMs >= policy.deleteAfterMs) {
      // Not wrong, but the move would only cost a copy before the deletion: say so rather than guess.
      fail(`policy "${name}": cold=${clauseOf(text, 'cold')} is not shorter than delete=${clauseOf(text, 'delete')}`);
    }
    policies.push(policy);
  }
  return policies;
}

function clauseOf(text: string, key: string): string {
  return new RegExp(`${key}=(\\S+)`).exec(text)?.[1] ?? '';
}

function duration(name: string, clause: string, arg: string | undefined): number {
  if (!arg) throw new ConfigError(`FILE_POLICIES: policy "${name}": "${clause}" needs a duration (30s, 12h, 30d)`);
  return parseDuration(`FILE_POLICIES (policy "${name}", ${clause.split('=')[0]})`, arg, 1000);
}

/** Reads the lifecycle variables; `dataDir` is the resolved `DATA_DIR`. */
export function parseLifecycle(raw: LifecycleRaw, dataDir: string): LifecycleConfig {
  const s3 = !!raw.S3_BUCKET;
  const s3Only = (['S3_COLD_STORAGE_CLASS', 'S3_COLD_BUCKET', 'S3_COLD_PREFIX', 'S3_PRESIGNED_DOWNLOADS', 'PRESIGNED_URL_TTL'] as const).filter((k) => raw[k]);
  if (!s3 && s3Only.length > 0) throw new ConfigError(`${s3Only.join(', ')} set but S3_BUCKET is not: these apply to S3 storage only`);
  if (s3 && raw.COLD_DIR) throw new ConfigError('COLD_DIR is for file storage; with S3_BUCKET use S3_COLD_STORAGE_CLASS, S3_COLD_BUCKET or S3_COLD_PREFIX');
  const storageClass = raw.S3_COLD_STORAGE_CLASS?.trim();
  if (storageClass !== undefined && !/^[A-Z_]{2,32}$/.test(storageClass)) {
    throw new ConfigError(`S3_COLD_STORAGE_CLASS="${storageClass}" must be an S3 storage class such as STANDARD_IA, GLACIER_IR or DEEP_ARCHIVE`);
  }
  const bucket = raw.S3_COLD_BUCKET?.trim();
  if (bucket !== undefined && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new ConfigError(`S3_COLD_BUCKET="${bucket}" is not a bucket name`);
  let prefix = raw.S3_COLD_PREFIX ?? (storageClass || (bucket && bucket !== raw.S3_BUCKET) ? '' : 'cold/');
  if (prefix && !/^[A-Za-z0-9!_.*'()/-]{1,200}\/$/.test(prefix)) throw new ConfigError(`S3_COLD_PREFIX="${prefix}" must be a key prefix ending in "/" such as cold/`);
  if (!storageClass && (!bucket || bucket === raw.S3_BUCKET) && prefix === '') {
    throw new ConfigError('S3_COLD_PREFIX is empty and neither S3_COLD_STORAGE_CLASS nor another S3_COLD_BUCKET is set: a cold copy would overwrite the object');
  }
  prefix = prefix ?? '';
  const presignedUrlTtlMs = raw.PRESIGNED_URL_TTL ? parseDuration('PRESIGNED_URL_TTL', raw.PRESIGNED_URL_TTL, 1000) : 300_000;
  if (presignedUrlTtlMs > 7 * 86_400_000) throw new ConfigError('PRESIGNED_URL_TTL must be at most 7d (the S3 limit for presigned URLs)');
  const maxAge = raw.DOWNLOAD_CACHE_MAX_AGE ? parseDuration('DOWNLOAD_CACHE_MAX_AGE', raw.DOWNLOAD_CACHE_MAX_AGE, 1000) : 365 * 86_400_000;
  return {
    policies: raw.FILE_POLICIES ? parsePolicies(raw.FILE_POLICIES) : [],
    maintenanceIntervalMs: raw.MAINTENANCE_INTERVAL ? parseDuration('MAINTENANCE_INTERVAL', raw.MAINTENANCE_INTERVAL, 1000) : 3_600_000,
    coldDir: path.resolve(raw.COLD_DIR ?? path.join(dataDir, 'cold')),
    s3Cold: { storageClass, bucket, prefix },
    presignedDownloads: raw.S3_PRESIGNED_DOWNLOADS ? parseBoolean('S3_PRESIGNED_DOWNLOADS', raw.S3_PRESIGNED_DOWNLOADS) : false,
    presignedUrlTtlMs,
    cdnDefault: raw.DOWNLOAD_CDN ? parseBoolean('DOWNLOAD_CDN', raw.DOWNLOAD_CDN) : false,
    cacheMaxAgeSeconds: Math.floor(maxAge / 1000),
  };
}

/** Whether `type` (a media type, parameters ignored) matches `pattern` (`video/*`, `*\/*`, exact). */
export function typeMatches(pattern: string, type: string): boolean {
  const t = type.split(';')[0].trim().toLowerCase();
  if (pattern === '*/*') return true;
  if (pattern.endsWith('/*')) return t.startsWith(pattern.slice(0, -1));
  return t === pattern;
}

/** Whether a file with this media type and these tags falls under `policy`. */
export function policyMatches(policy: FilePolicy, file: { mediaType: string; tags: readonly string[] }): boolean {
  if (policy.types.length > 0 && !policy.types.some((p) => typeMatches(p, file.mediaType))) return false;
  if (policy.tags.length > 0 && !policy.tags.some((t) => file.tags.includes(t))) return false;
  return true;
}

/** Whether shared caches may keep a download of this file: the first policy that says `cdn` decides. */
export function cdnAllowed(config: Pick<LifecycleConfig, 'policies' | 'cdnDefault'>, file: { mediaType: string; tags: readonly string[] }): boolean {
  for (const policy of config.policies) if (policy.cdn !== undefined && policyMatches(policy, file)) return policy.cdn;
  return config.cdnDefault;
}
