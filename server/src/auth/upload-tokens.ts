import { randomBytes } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify, SignJWT } from 'jose';
import { tusError } from '../errors.js';
import type { UploadTokenLimits } from './identity.js';

/** The `typ` header of upload tokens; user tokens carrying it are refused. */
export const UPLOAD_TOKEN_TYPE = 'tus-edge-upload+jwt';
const AUDIENCE = 'tus-edge:upload';

/** A verified upload token. */
export interface UploadTokenClaims {
  owner: string;
  tenant?: string;
  tokenId: string;
  limits: UploadTokenLimits;
  expiresAt: Date;
  /** Past its expiry: it may resume the uploads it created, not create new ones. */
  expired: boolean;
}

/**
 * Upload capabilities for browsers: short-lived HS256 JWTs signed with the first of the
 * `SIGNING_SECRET` keys and verified with any of them (rotation: put the new key first, keep the old
 * one until its tokens have expired). Each is bound to an owner (and tenant) and carries limits.
 */
export class UploadTokens {
  private readonly keys: Uint8Array[];
  /** Token → its verified claims (expiry is judged on every use), bounded like the user-token cache. */
  private readonly verified = new Map<string, Omit<UploadTokenClaims, 'expired'>>();

  constructor(secrets: string[], private readonly now: () => Date) {
    this.keys = secrets.map((s) => new TextEncoder().encode(s));
  }

  /** Whether a bearer token says it is an upload token (its header; the signature is checked by verify). */
  static looksLike(token: string): boolean {
    try {
      return decodeProtectedHeader(token).typ === UPLOAD_TOKEN_TYPE;
    } catch {
      return false;
    }
  }

  /** Signs a token for `owner` that lives `ttlMs`. */
  async mint(owner: string, tenant: string | undefined, limits: UploadTokenLimits, ttlMs: number): Promise<{ token: string; tokenId: string; expiresAt: Date }> {
    if (this.keys.length === 0) throw tusError('SIGNING_NOT_CONFIGURED');
    const now = this.now().getTime();
    const expiresAt = new Date(now + ttlMs);
    const tokenId = randomBytes(16).toString('base64url');
    const token = await new SignJWT({ tnt: tenant, lim: limits })
      .setProtectedHeader({ alg: 'HS256', typ: UPLOAD_TOKEN_TYPE })
      .setSubject(owner)
      .setAudience(AUDIENCE)
      .setJti(tokenId)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(this.keys[0]);
    return { token, tokenId, expiresAt };
  }

  /** Checks the signature with every key; an expired token is returned with `expired: true`. */
  async verify(token: string): Promise<UploadTokenClaims> {
    let claims = this.verified.get(token);
    if (!claims) {
      claims = await this.verifyAnew(token);
      if (this.verified.size >= 10_000) this.verified.delete(this.verified.keys().next().value as string);
      this.verified.set(token, claims);
    }
    return { ...claims, expired: claims.expiresAt.getTime() <= this.now().getTime() };
  }

  private async verifyAnew(token: string): Promise<Omit<UploadTokenClaims, 'expired'>> {
    for (const key of this.keys) {
      try {
        // Expiry is judged below: an expired token still proves which uploads it created.
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'], audience: AUDIENCE, typ: UPLOAD_TOKEN_TYPE, currentDate: new Date(0), requiredClaims: ['exp', 'sub', 'jti'],
        });
        const expiresAt = new Date((payload.exp as number) * 1000);
        return {
          owner: payload.sub as string,
          tenant: typeof payload.tnt === 'string' ? payload.tnt : undefined,
          tokenId: payload.jti as string,
          limits: sanitize(payload.lim),
          expiresAt,
        };
      } catch (err) {
        if (err instanceof errors.JWSSignatureVerificationFailed) continue;
        throw tusError('AUTH_INVALID', err instanceof errors.JOSEError ? err.code : undefined);
      }
    }
    throw tusError('AUTH_INVALID', 'signature does not match');
  }
}

function sanitize(value: unknown): UploadTokenLimits {
  const v = (value ?? {}) as Record<string, unknown>;
  const limits: UploadTokenLimits = {};
  if (Number.isSafeInteger(v.maxSize)) limits.maxSize = v.maxSize as number;
  if (Number.isSafeInteger(v.maxUploads)) limits.maxUploads = v.maxUploads as number;
  if (Array.isArray(v.types) && v.types.every((t) => typeof t === 'string')) limits.types = v.types as string[];
  return limits;
}
