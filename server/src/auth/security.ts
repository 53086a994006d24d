import type { Readable } from 'node:stream';
import type { SecurityConfig } from '../config/security.js';
import { ERRORS, TusError, tusError } from '../errors.js';
import { HEAD_BYTES, judgeHead, peekHead } from '../limits/content.js';
import type { Quotas } from '../limits/quotas.js';
import type { RateLimits } from '../limits/rate-limits.js';
import type { UploadAccess, UploadRecord } from '../records/types.js';
import { mayAccess, rateKey, sameSecret, type Identity } from './identity.js';
import type { UrlSigner } from './signed-urls.js';
import { UploadTokens } from './upload-tokens.js';
import type { UserTokens } from './user-tokens.js';

/** The parts {@link Security} is made of, chosen once in `context.ts`. */
export interface SecurityParts {
  config: SecurityConfig;
  /** Absent with `AUTH_MODE=none`. */
  userTokens?: UserTokens;
  uploadTokens: UploadTokens;
  signer: UrlSigner;
  limits: RateLimits;
  quotas: Quotas;
}

const REALM = 'Bearer realm="tus-edge"';

/** A 401 that tells the client how to authenticate (RFC 6750 §3). */
function unauthorized(err: TusError): TusError {
  const base = ERRORS[err.code].message;
  const detail = err.message.startsWith(`${base}: `) ? err.message.slice(base.length + 2) : undefined;
  const challenge = err.code === 'AUTH_REQUIRED'
    ? REALM
    : `${REALM}, error="invalid_token", error_description="${err.message.replace(/["\\\r\n]/g, ' ')}"`;
  return tusError(err.code, detail, { ...err.headers, 'WWW-Authenticate': challenge });
}

/**
 * Who may do what: identifies callers, admits creations (owner stamp, upload-token limits, creation
 * rate, quota), and guards writes (bytes per second, content type of the first bytes). The HTTP
 * middleware (auth/middleware.ts) and the tus handlers call it; nothing else decides these things.
 */
export class Security {
  constructor(readonly parts: SecurityParts) {}

  get config(): SecurityConfig {
    return this.parts.config;
  }

  get authEnabled(): boolean {
    return this.parts.config.auth.mode === 'jwt';
  }

  /** The identity behind an `Authorization` header; 401 (with WWW-Authenticate) when missing or bad. */
  async identify(authorization: string | undefined, address: string): Promise<Identity> {
    const { userTokens, uploadTokens } = this.parts;
    const operator = this.parts.config.operatorToken;
    const bearer = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (operator && bearer && sameSecret(bearer, operator)) return { kind: 'operator', address };
    if (!userTokens) return { kind: 'anonymous', address };
    try {
      const m = /^Bearer[ ]+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(authorization ?? '');
      if (!m) throw tusError(authorization ? 'AUTH_INVALID' : 'AUTH_REQUIRED', authorization ? 'expected "Bearer <token>"' : undefined);
      const token = m[1];
      if (UploadTokens.looksLike(token)) {
        const claims = await uploadTokens.verify(token);
        return { kind: 'upload-token', owner: claims.owner, tenant: claims.tenant, tokenId: claims.tokenId, limits: claims.limits, expired: claims.expired, address };
      }
      const user = await userTokens.verify(token);
      return { kind: 'user', owner: user.owner, tenant: user.tenant, ...(user.plan && { plan: user.plan }), address };
    } catch (err) {
      if (err instanceof TusError && err.status === 401) throw unauthorized(err);
      throw err;
    }
  }

  /** An upload token past its expiry may only work on the uploads it created: 401 elsewhere. */
  refuseExpired(identity: Identity): void {
    if (identity.kind === 'upload-token' && identity.expired) throw unauthorized(tusError('AUTH_EXPIRED'));
  }

  /**
   * Admits a new upload before anything is stored, and says whose it is: the caller's owner and tenant,
   * an upload token's id and limits (size 413, uploads 403). A final upload may list only partials the
   * caller may reach (others look unknown). Counts the creation rate (429). The quota is charged by the
   * uploads domain when it creates the upload.
   */
  async admitCreation(identity: Identity | undefined, size: number | undefined, parts: UploadRecord[], maxSize: number): Promise<UploadAccess> {
    if (!identity) return {};
    if (identity.kind === 'signed-url') throw tusError('TOKEN_SCOPE', 'a signed URL only downloads');
    if (identity.kind === 'operator') throw tusError('TOKEN_SCOPE', 'the operator token manages; uploads are created with a user or upload token');
    this.refuseExpired(identity);
    for (const part of parts) if (!mayAccess(identity, part)) throw tusError('INVALID_CONCAT_PART');
    const access: UploadAccess = {};
    if (identity.kind === 'user' || identity.kind === 'upload-token') {
      access.owner = identity.owner;
      if (identity.tenant !== undefined) access.tenant = identity.tenant;
    }
    if (identity.kind === 'upload-token') {
      const { limits } = identity;
      access.tokenId = identity.tokenId;
      if (limits.maxSize !== undefined) {
        const total = size ?? parts.reduce((sum, p) => sum + (p.size ?? 0), 0);
        if (total > limits.maxSize) throw tusError('UPLOAD_TOKEN_SIZE_EXCEEDED', `${total} > ${limits.maxSize}`);
        access.maxSize = Math.min(limits.maxSize, maxSize);
      }
      if (limits.types?.length) access.allowedTypes = limits.types;
      if (limits.maxUploads !== undefined) await this.parts.limits.tokenUse(identity.tokenId, limits.maxUploads);
    }
    await this.parts.limits.creation(rateKey(identity));
    return access;
  }

  /** A length declared later must fit the upload's own limit (an upload token's), then the quota. */
  async declareLength(record: UploadRecord, length: number): Promise<void> {
    if (record.maxSize !== undefined && length > record.maxSize) throw tusError('UPLOAD_TOKEN_SIZE_EXCEEDED', `${length} > ${record.maxSize}`);
    await this.parts.quotas.declare(record, length);
  }

  /**
   * Before a body is written: the caller's bytes per second (429), and on the upload's first bytes
   * the media type by magic bytes (415 TYPE_NOT_ALLOWED; the caller removes the upload). Returns the
   * body to write, which still yields every byte.
   */
  async beforeWrite(identity: Identity | undefined, record: UploadRecord, offset: number, body: Readable, most: number, signal: AbortSignal): Promise<Readable> {
    if (identity) await this.parts.limits.bytesAllowed(rateKey(identity));
    const lists = [this.parts.config.allowedTypes, record.allowedTypes];
    if (offset !== 0 || lists.every((l) => !l?.length)) return body;
    const peeked = await peekHead(body, Math.min(HEAD_BYTES, most), signal);
    if (peeked.head.length === 0) return peeked.body;
    const { mime, ok } = judgeHead(peeked.head, lists);
    if (!ok) throw tusError('TYPE_NOT_ALLOWED', `the bytes are ${mime}`);
    return peeked.body;
  }

  /** After a body was written: counts its bytes against the caller's bytes per second. */
  async afterWrite(identity: Identity | undefined, bytes: number): Promise<void> {
    if (identity) await this.parts.limits.bytesUsed(rateKey(identity), bytes);
  }
}
