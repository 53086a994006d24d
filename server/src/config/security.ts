/**
 * Security settings: who may call the server (AUTH_*), what it signs (SIGNING_SECRET), how much one
 * identity may do (RATE_LIMIT_*, QUOTA_*), which bytes it takes (ALLOWED_TYPES) and request limits.
 */
import { ConfigError, parseDuration, parseInteger, parseSize } from '@tus-edge/processors';
import type { RawEnv } from './config.js';

/** Authentication: off (`AUTH_MODE=none`) or bearer JWTs (`AUTH_MODE=jwt`). */
export type AuthConfig =
  | { mode: 'none' }
  | {
      mode: 'jwt';
      /** HS256 shared secret (`AUTH_JWT_SECRET`); exactly one of `secret` and `jwksUrl`. */
      secret?: string;
      /** JWKS of the identity provider (`AUTH_JWKS_URL`): RS256, ES256, EdDSA; keys cached, rotated by `kid`. */
      jwksUrl?: string;
      /** Required `iss` (`AUTH_JWT_ISSUER`), if set. */
      issuer?: string;
      /** Required `aud` (`AUTH_JWT_AUDIENCE`), if set. */
      audience?: string;
      /** Allowed clock skew for `exp`/`nbf`, in seconds (`AUTH_CLOCK_TOLERANCE`, default 5s). */
      clockToleranceS: number;
      /** Claim naming the tenant that scopes the subject (`AUTH_TENANT_CLAIM`); required in tokens when set. */
      tenantClaim?: string;
    };

/** Validated security configuration. Every field has a documented default. */
export interface SecurityConfig {
  auth: AuthConfig;
  /**
   * Keys for upload tokens and signed URLs (`SIGNING_SECRET`, comma-separated): the first signs, all
   * verify, so a key is rotated by putting the new one first. Required with `AUTH_MODE=jwt`.
   */
  signingSecrets: string[];
  /** Longest life of an upload token, and its default (`UPLOAD_TOKEN_TTL`, default 1h). */
  uploadTokenTtlMs: number;
  /** Longest life of a signed download URL, and its default (`SIGNED_URL_TTL`, default 15m). */
  signedUrlTtlMs: number;
  /** Bearer token `/metrics` requires (`METRICS_TOKEN`); open when unset. */
  metricsToken?: string;
  /**
   * Bearer token of the operator (`OPERATOR_TOKEN`, at least 32 characters): the admin page, analytics of
   * every owner, dead letters. Unset: nobody is the operator (those routes answer 403).
   */
  operatorToken?: string;
  /**
   * Media types an upload's bytes may be, judged by magic bytes on its first write (`ALLOWED_TYPES`,
   * comma-separated, `type/*` wildcards; default: any).
   */
  allowedTypes: string[];
  /**
   * Per identity (owner, or client address without auth), per second; 0 = unlimited
   * (`RATE_LIMIT_REQUESTS` default 100 with auth / 0 without, `RATE_LIMIT_CREATIONS` 20 / 0,
   * `RATE_LIMIT_BYTES` 0).
   */
  rateLimits: { requests: number; creations: number; bytes: number };
  /** Per owner; 0 = unlimited (`QUOTA_BYTES` stored bytes, `QUOTA_UPLOADS` unfinished uploads; default 0). */
  quotas: { bytes: number; uploads: number };
  /** Bodies of non-upload routes must arrive within this (`REQUEST_TIMEOUT`, default 30s). */
  requestTimeoutMs: number;
  /** Largest request head in bytes (`MAX_HEADER_SIZE`, default 16KiB). */
  maxHeaderBytes: number;
}

const MEDIA_PATTERN = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]*)$/;

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function rate(raw: RawEnv, name: 'RATE_LIMIT_REQUESTS' | 'RATE_LIMIT_CREATIONS', fallback: number): number {
  return raw[name] !== undefined ? parseInteger(name, raw[name]!, 0, 1_000_000_000) : fallback;
}

/** Parses the security variables, refusing contradictions with the variables named. */
export function parseSecurity(raw: RawEnv): SecurityConfig {
  const mode = (raw.AUTH_MODE ?? 'none').trim().toLowerCase();
  if (mode !== 'none' && mode !== 'jwt') throw new ConfigError(`AUTH_MODE="${raw.AUTH_MODE}" must be none or jwt`);
  const jwtKeys = (['AUTH_JWT_SECRET', 'AUTH_JWKS_URL', 'AUTH_JWT_ISSUER', 'AUTH_JWT_AUDIENCE', 'AUTH_CLOCK_TOLERANCE', 'AUTH_TENANT_CLAIM'] as const).filter((k) => raw[k]);
  const signingSecrets = list(raw.SIGNING_SECRET);
  let auth: AuthConfig = { mode: 'none' };
  if (mode === 'none') {
    if (jwtKeys.length > 0) throw new ConfigError(`${jwtKeys.join(', ')} set but AUTH_MODE is not jwt: set AUTH_MODE=jwt to verify tokens`);
  } else {
    if (!!raw.AUTH_JWT_SECRET === !!raw.AUTH_JWKS_URL) {
      throw new ConfigError('AUTH_MODE=jwt needs exactly one of AUTH_JWT_SECRET (HS256) or AUTH_JWKS_URL (RS256/ES256/EdDSA)');
    }
    if (signingSecrets.length === 0) {
      throw new ConfigError('AUTH_MODE=jwt needs SIGNING_SECRET: upload tokens and signed URLs are signed with it');
    }
    if (raw.AUTH_JWT_SECRET && signingSecrets.includes(raw.AUTH_JWT_SECRET)) {
      throw new ConfigError('SIGNING_SECRET must differ from AUTH_JWT_SECRET: a user token must never pass for an upload token');
    }
    if (raw.AUTH_JWKS_URL && !/^https?:\/\/\S+$/.test(raw.AUTH_JWKS_URL)) throw new ConfigError(`AUTH_JWKS_URL="${raw.AUTH_JWKS_URL}" must be an http(s) URL`);
    if (raw.AUTH_TENANT_CLAIM !== undefined && !/^[A-Za-z0-9_.:/-]{1,128}$/.test(raw.AUTH_TENANT_CLAIM)) {
      throw new ConfigError(`AUTH_TENANT_CLAIM="${raw.AUTH_TENANT_CLAIM}" must be a claim name`);
    }
    auth = {
      mode: 'jwt',
      secret: raw.AUTH_JWT_SECRET,
      jwksUrl: raw.AUTH_JWKS_URL,
      issuer: raw.AUTH_JWT_ISSUER,
      audience: raw.AUTH_JWT_AUDIENCE,
      clockToleranceS: raw.AUTH_CLOCK_TOLERANCE ? Math.floor(parseDuration('AUTH_CLOCK_TOLERANCE', raw.AUTH_CLOCK_TOLERANCE) / 1000) : 5,
      tenantClaim: raw.AUTH_TENANT_CLAIM,
    };
  }
  const quotas = {
    bytes: raw.QUOTA_BYTES ? parseSize('QUOTA_BYTES', raw.QUOTA_BYTES) : 0,
    uploads: raw.QUOTA_UPLOADS ? parseInteger('QUOTA_UPLOADS', raw.QUOTA_UPLOADS, 0, 1_000_000_000) : 0,
  };
  if (auth.mode === 'none' && (raw.QUOTA_BYTES || raw.QUOTA_UPLOADS)) {
    throw new ConfigError('QUOTA_BYTES / QUOTA_UPLOADS are per owner and need AUTH_MODE=jwt (without it there is no owner)');
  }
  const allowedTypes = list(raw.ALLOWED_TYPES).map((t) => t.toLowerCase());
  for (const t of allowedTypes) {
    if (!MEDIA_PATTERN.test(t)) throw new ConfigError(`ALLOWED_TYPES entry "${t}" must be a media type such as image/png or image/*`);
  }
  const authOn = auth.mode === 'jwt';
  const uploadTokenTtlMs = raw.UPLOAD_TOKEN_TTL ? parseDuration('UPLOAD_TOKEN_TTL', raw.UPLOAD_TOKEN_TTL) : 3_600_000;
  const signedUrlTtlMs = raw.SIGNED_URL_TTL ? parseDuration('SIGNED_URL_TTL', raw.SIGNED_URL_TTL) : 900_000;
  if (uploadTokenTtlMs < 1000 || signedUrlTtlMs < 1000) throw new ConfigError('UPLOAD_TOKEN_TTL and SIGNED_URL_TTL must be at least 1s');
  if (raw.METRICS_TOKEN !== undefined && raw.METRICS_TOKEN.length < 8) throw new ConfigError('METRICS_TOKEN must be at least 8 characters');
  if (raw.OPERATOR_TOKEN !== undefined && !/^[A-Za-z0-9._~+/-]{32,}$/.test(raw.OPERATOR_TOKEN)) throw new ConfigError('OPERATOR_TOKEN must be at least 32 characters of A-Z a-z 0-9 . _ ~ + / -');
  return {
    auth,
    signingSecrets,
    uploadTokenTtlMs,
    signedUrlTtlMs,
    metricsToken: raw.METRICS_TOKEN,
    operatorToken: raw.OPERATOR_TOKEN,
    allowedTypes,
    rateLimits: {
      requests: rate(raw, 'RATE_LIMIT_REQUESTS', authOn ? 100 : 0),
      creations: rate(raw, 'RATE_LIMIT_CREATIONS', authOn ? 20 : 0),
      bytes: raw.RATE_LIMIT_BYTES ? (raw.RATE_LIMIT_BYTES.trim() === '0' ? 0 : parseSize('RATE_LIMIT_BYTES', raw.RATE_LIMIT_BYTES)) : 0,
    },
    quotas,
    requestTimeoutMs: raw.REQUEST_TIMEOUT ? Math.max(1000, parseDuration('REQUEST_TIMEOUT', raw.REQUEST_TIMEOUT)) : 30_000,
    maxHeaderBytes: raw.MAX_HEADER_SIZE ? parseSize('MAX_HEADER_SIZE', raw.MAX_HEADER_SIZE) : 16 * 1024,
  };
}

/** Whether a sniffed media type matches one of `patterns` (`type/subtype` or `type/*`). */
export function typeAllowed(mime: string, patterns: readonly string[]): boolean {
  const m = mime.toLowerCase();
  return patterns.some((p) => p === m || (p.endsWith('/*') && m.startsWith(p.slice(0, -1))));
}

