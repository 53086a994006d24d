import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { AuthConfig } from '../config/security.js';
import { TusError, tusError } from '../errors.js';
import { UPLOAD_TOKEN_TYPE } from './upload-tokens.js';

type JwtAuth = Extract<AuthConfig, { mode: 'jwt' }>;

/** JWKS keys are kept this long; a token with an unknown `kid` refetches (at most once per cooldown). */
const JWKS_CACHE_MAX_AGE_MS = 10 * 60_000;
const JWKS_COOLDOWN_MS = 30_000;
const JWKS_TIMEOUT_MS = 5000;

/** Verified tokens kept, so a client sending the same token with every PATCH pays for one verification. */
const VERIFIED_CACHE_SIZE = 10_000;

/** The owner a user token names. */
export interface UserClaims {
  owner: string;
  tenant?: string;
  /** The `plan` claim, when it is a short string: processing requests take its lane (PROCESS_PLAN_PRIORITY). */
  plan?: string;
}

/**
 * Verifies users' bearer JWTs with jose: HS256 with `AUTH_JWT_SECRET`, or RS256/ES256/EdDSA against
 * `AUTH_JWKS_URL` (keys cached, an unknown `kid` fetches the set again, so the provider can rotate).
 * `iss`/`aud` are required when configured; `exp` always is; `sub` is the owner.
 */
export class UserTokens {
  private readonly key: Uint8Array | JWTVerifyGetKey;
  private readonly algorithms: string[];
  /** Token → its claims and `exp` (ms), for tokens whose signature and claims were verified. */
  private readonly verified = new Map<string, { claims: UserClaims; expMs: number }>();

  /** `jwksCooldownMs`: least time between two fetches of the key set (default 30 s). */
  constructor(private readonly config: JwtAuth, jwksCooldownMs = JWKS_COOLDOWN_MS) {
    if (config.secret) {
      this.key = new TextEncoder().encode(config.secret);
      this.algorithms = ['HS256'];
    } else {
      this.key = createRemoteJWKSet(new URL(config.jwksUrl!), {
        cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
        cooldownDuration: jwksCooldownMs,
        timeoutDuration: JWKS_TIMEOUT_MS,
      });
      this.algorithms = ['RS256', 'ES256', 'EdDSA'];
    }
  }

  /**
   * The token's owner; throws AUTH_EXPIRED or AUTH_INVALID (both 401). A token verified before is
   * answered from memory until its `exp` (plus the clock tolerance): the same bytes carry the same
   * signature, so only the expiry can have changed.
   */
  async verify(token: string): Promise<UserClaims> {
    const known = this.verified.get(token);
    if (known) {
      if (known.expMs + this.config.clockToleranceS * 1000 > Date.now()) return known.claims;
      this.verified.delete(token);
      throw tusError('AUTH_EXPIRED');
    }
    const claims = await this.verifyAnew(token);
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(token, claims);
    return claims.claims;
  }

  private async verifyAnew(token: string): Promise<{ claims: UserClaims; expMs: number }> {
    let payload: JWTPayload;
    try {
      const verified = await jwtVerify(token, this.key as Uint8Array, {
        algorithms: this.algorithms,
        issuer: this.config.issuer,
        audience: this.config.audience,
        clockTolerance: this.config.clockToleranceS,
        requiredClaims: ['exp', 'sub'],
      });
      if (verified.protectedHeader.typ === UPLOAD_TOKEN_TYPE) throw tusError('AUTH_INVALID', 'an upload token is not a user token');
      payload = verified.payload;
    } catch (err) {
      if (err instanceof TusError) throw err;
      if (err instanceof errors.JWTExpired) throw tusError('AUTH_EXPIRED');
      // The provider's key set could not be had (timeout, network): not the token's fault, so not a 401
      // that would make a client drop a good token.
      if (err instanceof errors.JWKSTimeout || !(err instanceof errors.JOSEError)) {
        throw tusError('AUTH_UNAVAILABLE', err instanceof Error ? err.message : undefined, { 'Retry-After': '5' });
      }
      throw tusError('AUTH_INVALID', err.code);
    }
    const owner = payload.sub;
    if (typeof owner !== 'string' || owner.length === 0 || owner.length > 256) throw tusError('AUTH_INVALID', 'sub must be a non-empty string');
    const claim = this.config.tenantClaim;
    const expMs = (payload.exp as number) * 1000;
    const plan = typeof payload.plan === 'string' && payload.plan.length <= 64 ? { plan: payload.plan } : {};
    if (!claim) return { claims: { owner, ...plan }, expMs };
    const tenant = payload[claim];
    if (typeof tenant !== 'string' || tenant.length === 0 || tenant.length > 256) throw tusError('AUTH_INVALID', `claim ${claim} (tenant) is missing`);
    return { claims: { owner, tenant, ...plan }, expMs };
  }
}
