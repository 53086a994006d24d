import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.js';
import { typeAllowed } from './security.js';

describe('security config', () => {
  it('is off by default with no limits, and documented defaults with jwt', () => {
    const off = parseConfig({}).security;
    expect(off.auth).toEqual({ mode: 'none' });
    expect(off.rateLimits).toEqual({ requests: 0, creations: 0, bytes: 0 });
    const on = parseConfig({ AUTH_MODE: 'jwt', AUTH_JWT_SECRET: 's', SIGNING_SECRET: 'k2,k1' }).security;
    expect(on.auth).toMatchObject({ mode: 'jwt', secret: 's', clockToleranceS: 5 });
    expect(on.signingSecrets).toEqual(['k2', 'k1']);
    expect(on.uploadTokenTtlMs).toBe(3_600_000);
    expect(on.rateLimits).toEqual({ requests: 100, creations: 20, bytes: 0 });
    expect(parseConfig({ AUTH_MODE: 'jwt', AUTH_JWKS_URL: 'https://idp/jwks', SIGNING_SECRET: 'k', RATE_LIMIT_BYTES: '1MiB', QUOTA_BYTES: '1GiB', QUOTA_UPLOADS: '3' }).security)
      .toMatchObject({ rateLimits: { bytes: 1024 ** 2 }, quotas: { bytes: 1024 ** 3, uploads: 3 } });
  });

  it.each([
    [{ AUTH_MODE: 'basic' }, /AUTH_MODE/],
    [{ AUTH_MODE: 'jwt', AUTH_JWT_SECRET: 's' }, /SIGNING_SECRET/],
    [{ AUTH_MODE: 'jwt', SIGNING_SECRET: 'k' }, /AUTH_JWT_SECRET.*AUTH_JWKS_URL/],
    [{ AUTH_MODE: 'jwt', AUTH_JWT_SECRET: 's', AUTH_JWKS_URL: 'https://x', SIGNING_SECRET: 'k' }, /exactly one/],
    [{ AUTH_MODE: 'jwt', AUTH_JWT_SECRET: 's', SIGNING_SECRET: 'k,s' }, /differ/],
    [{ AUTH_JWT_SECRET: 's' }, /AUTH_MODE is not jwt/],
    [{ QUOTA_UPLOADS: '2' }, /QUOTA.*AUTH_MODE=jwt/],
    [{ ALLOWED_TYPES: 'png' }, /ALLOWED_TYPES/],
    [{ METRICS_TOKEN: 'short' }, /METRICS_TOKEN/],
  ])('refuses %o', (raw, message) => {
    expect(() => parseConfig(raw)).toThrow(ConfigError);
    expect(() => parseConfig(raw)).toThrow(message);
  });

  it('matches media types and wildcards', () => {
    expect(typeAllowed('image/png', ['image/*'])).toBe(true);
    expect(typeAllowed('image/png', ['image/jpeg', 'application/pdf'])).toBe(false);
    expect(typeAllowed('application/pdf', ['application/pdf'])).toBe(true);
    expect(typeAllowed('imagery/png', ['image/*'])).toBe(false);
  });
});
