/**
 * Test helper: real HS256 user tokens for servers started with `AUTH_MODE=jwt AUTH_JWT_SECRET=...`.
 * Used by the security tests; never by production code.
 */
import { SignJWT } from 'jose';

/** The secrets the security tests start servers with. */
export const TEST_JWT_SECRET = 'test-user-jwt-secret-0123456789abcdef';
export const TEST_SIGNING_SECRET = 'test-signing-secret-fedcba9876543210';

/** Environment for a server with auth on, for {@link userToken}. */
export const AUTH_ENV = { AUTH_MODE: 'jwt', AUTH_JWT_SECRET: TEST_JWT_SECRET, SIGNING_SECRET: TEST_SIGNING_SECRET } as const;

export interface TokenOptions {
  /** Seconds from now until `exp` (negative: already expired). Default 600. */
  expiresIn?: number;
  /** Key to sign with (default {@link TEST_JWT_SECRET}). */
  secret?: string;
  claims?: Record<string, unknown>;
}

/** An HS256 JWT whose subject is `sub`. */
export function userToken(sub: string, options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(options.claims ?? {})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt(now - 5)
    .setExpirationTime(now + (options.expiresIn ?? 600))
    .sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}

/** `{ Authorization: 'Bearer <token>' }`. */
export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}
