import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TusError } from '../errors.js';
import { userToken } from '@tus-edge/testkit';
import { mayAccess } from './identity.js';
import { UrlSigner } from './signed-urls.js';
import { UploadTokens } from './upload-tokens.js';
import { UserTokens } from './user-tokens.js';

const codeOf = async (p: Promise<unknown>) => p.then(() => 'ok', (err: unknown) => (err instanceof TusError ? err.code : String(err)));

describe('UrlSigner', () => {
  let now = new Date('2026-01-01T00:00:00Z');
  const signer = new UrlSigner(['new-key', 'old-key'], () => now);
  const parse = (signed: string) => {
    const url = new URL(signed, 'http://x');
    return [url.pathname, url.searchParams.get('expires') ?? undefined, url.searchParams.get('signature') ?? undefined] as const;
  };

  it('accepts its own signature until it expires, for that path only', () => {
    const signed = signer.sign('/files/abc', new Date(now.getTime() + 60_000));
    expect(signer.verify(...parse(signed))).toBe('valid');
    const [, expires, sig] = parse(signed);
    expect(signer.verify('/files/abd', expires, sig)).toBe('invalid');
    expect(signer.verify('/files/abc', String(Number(expires) + 1), sig)).toBe('invalid');
    now = new Date(now.getTime() + 61_000);
    expect(signer.verify(...parse(signed))).toBe('expired');
  });

  it('verifies with every key of the rotation list, signs with the first', () => {
    const old = new UrlSigner(['old-key'], () => now).sign('/files/x', new Date(now.getTime() + 60_000));
    expect(signer.verify(...parse(old))).toBe('valid');
    const foreign = new UrlSigner(['other'], () => now).sign('/files/x', new Date(now.getTime() + 60_000));
    expect(signer.verify(...parse(foreign))).toBe('invalid');
    expect(signer.verify('/files/x', '1', 'short')).toBe('invalid');
    expect(signer.verify('/files/x', undefined, undefined)).toBe('invalid');
  });
});

describe('UploadTokens', () => {
  let now = new Date();
  const tokens = new UploadTokens(['k2', 'k1'], () => now);

  it('round-trips owner, tenant and limits, and reports expiry instead of refusing', async () => {
    const { token, tokenId } = await tokens.mint('alice', 'acme', { maxSize: 10, types: ['image/*'], maxUploads: 2 }, 60_000);
    expect(UploadTokens.looksLike(token)).toBe(true);
    const claims = await tokens.verify(token);
    expect(claims).toMatchObject({ owner: 'alice', tenant: 'acme', tokenId, limits: { maxSize: 10, types: ['image/*'], maxUploads: 2 }, expired: false });
    now = new Date(now.getTime() + 120_000);
    expect((await tokens.verify(token)).expired).toBe(true);
  });

  it('accepts tokens of an older key and refuses foreign or tampered ones', async () => {
    const old = await new UploadTokens(['k1'], () => now).mint('bob', undefined, {}, 60_000);
    expect((await tokens.verify(old.token)).owner).toBe('bob');
    const foreign = await new UploadTokens(['zz'], () => now).mint('bob', undefined, {}, 60_000);
    expect(await codeOf(tokens.verify(foreign.token))).toBe('AUTH_INVALID');
    const [h, p, s] = old.token.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 'mallory' })).toString('base64url')}.${s}`;
    expect(await codeOf(tokens.verify(forged))).toBe('AUTH_INVALID');
  });

  it('a user token is not an upload token', async () => {
    expect(UploadTokens.looksLike(await userToken('alice'))).toBe(false);
    expect(UploadTokens.looksLike('garbage')).toBe(false);
  });
});

describe('UserTokens (HS256)', () => {
  const verifier = new UserTokens({ mode: 'jwt', secret: 'user-secret', clockToleranceS: 5, issuer: 'https://idp.example', audience: 'tus' });
  const sign = (claims: Record<string, unknown>, opts: { exp?: number; secret?: string; sub?: string; iss?: string; aud?: string } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(opts.sub ?? 'alice')
      .setIssuer(opts.iss ?? 'https://idp.example')
      .setAudience(opts.aud ?? 'tus')
      .setExpirationTime(Math.floor(Date.now() / 1000) + (opts.exp ?? 60))
      .sign(new TextEncoder().encode(opts.secret ?? 'user-secret'));

  it('returns the subject as owner', async () => {
    expect(await verifier.verify(await sign({}))).toEqual({ owner: 'alice' });
  });

  it('refuses expired, wrongly signed, wrong issuer or audience, and alg none', async () => {
    expect(await codeOf(verifier.verify(await sign({}, { exp: -60 })))).toBe('AUTH_EXPIRED');
    expect(await codeOf(verifier.verify(await sign({}, { secret: 'other' })))).toBe('AUTH_INVALID');
    expect(await codeOf(verifier.verify(await sign({}, { iss: 'https://evil' })))).toBe('AUTH_INVALID');
    expect(await codeOf(verifier.verify(await sign({}, { aud: 'else' })))).toBe('AUTH_INVALID');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'alice', exp: 9e9 })).toString('base64url')}.`;
    expect(await codeOf(verifier.verify(none))).toBe('AUTH_INVALID');
    expect(await codeOf(verifier.verify('not.a.jwt'))).toBe('AUTH_INVALID');
  });

  it('answers a token seen before from memory, but never past its exp', async () => {
    const strict = new UserTokens({ mode: 'jwt', secret: 'user-secret', clockToleranceS: 0 });
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice')
      .setExpirationTime(Math.floor(Date.now() / 1000) + 2).sign(new TextEncoder().encode('user-secret'));
    expect(await strict.verify(token)).toEqual({ owner: 'alice' });
    expect(await strict.verify(token)).toEqual({ owner: 'alice' });
    await new Promise((r) => setTimeout(r, 2100));
    expect(await codeOf(strict.verify(token))).toBe('AUTH_EXPIRED');
  });

  it('requires the tenant claim when one is configured', async () => {
    const scoped = new UserTokens({ mode: 'jwt', secret: 'user-secret', clockToleranceS: 5, tenantClaim: 'org' });
    const plain = (claims: Record<string, unknown>) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setExpirationTime('1m').sign(new TextEncoder().encode('user-secret'));
    expect(await scoped.verify(await plain({ org: 'acme' }))).toEqual({ owner: 'alice', tenant: 'acme' });
    expect(await codeOf(scoped.verify(await plain({})))).toBe('AUTH_INVALID');
  });
});

describe('UserTokens (JWKS over HTTP, rotation)', () => {
  let keys: JWK[] = [];
  let fetches = 0;
  let server: http.Server;
  let url = '';
  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('verifies ES256 and EdDSA keys, caches the set, and fetches it again for an unknown kid', async () => {
    const a = await generateKeyPair('ES256');
    const b = await generateKeyPair('EdDSA');
    keys = [{ ...(await exportJWK(a.publicKey)), kid: 'a', alg: 'ES256' }];
    const verifier = new UserTokens({ mode: 'jwt', jwksUrl: url, clockToleranceS: 5 }, 0);
    const token = (key: Parameters<SignJWT['sign']>[0], kid: string, alg: string) =>
      new SignJWT({}).setProtectedHeader({ alg, kid }).setSubject('carol').setExpirationTime('1m').sign(key);
    expect(await verifier.verify(await token(a.privateKey, 'a', 'ES256'))).toEqual({ owner: 'carol' });
    expect(await verifier.verify(await token(a.privateKey, 'a', 'ES256'))).toEqual({ owner: 'carol' });
    expect(fetches).toBe(1);
    // The provider rotates: key b appears, key a goes.
    keys = [{ ...(await exportJWK(b.publicKey)), kid: 'b', alg: 'EdDSA' }];
    expect(await verifier.verify(await token(b.privateKey, 'b', 'EdDSA'))).toEqual({ owner: 'carol' });
    expect(fetches).toBe(2);
    // An HS256 token signed with a public key's bytes (algorithm confusion) is refused.
    const confused = await new SignJWT({}).setProtectedHeader({ alg: 'HS256', kid: 'b' }).setSubject('carol').setExpirationTime('1m')
      .sign(new TextEncoder().encode(JSON.stringify(keys[0])));
    expect(await codeOf(verifier.verify(confused))).toBe('AUTH_INVALID');
  });
});

describe('UserTokens (JWKS unreachable)', () => {
  it('answers 503 AUTH_UNAVAILABLE, not 401, when the key set cannot be fetched', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k' }).setSubject('x').setExpirationTime('1m').sign(privateKey);
    const verifier = new UserTokens({ mode: 'jwt', jwksUrl: 'http://127.0.0.1:1/jwks.json', clockToleranceS: 5 }, 0);
    const err = await verifier.verify(token).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TusError);
    expect([(err as TusError).code, (err as TusError).status]).toEqual(['AUTH_UNAVAILABLE', 503]);
  });
});

describe('mayAccess', () => {
  const rec = { id: 'u', metadata: {}, createdAt: '', updatedAt: '', owner: 'alice', tenant: 'acme', tokenId: 't1' };
  it('is the same owner and tenant, and for an upload token only its own uploads', () => {
    expect(mayAccess({ kind: 'user', owner: 'alice', tenant: 'acme', address: '' }, rec)).toBe(true);
    expect(mayAccess({ kind: 'user', owner: 'alice', address: '' }, rec)).toBe(false);
    expect(mayAccess({ kind: 'user', owner: 'bob', tenant: 'acme', address: '' }, rec)).toBe(false);
    const token = { kind: 'upload-token' as const, owner: 'alice', tenant: 'acme', limits: {}, expired: true, address: '' };
    expect(mayAccess({ ...token, tokenId: 't1' }, rec)).toBe(true);
    expect(mayAccess({ ...token, tokenId: 't2' }, rec)).toBe(false);
  });
});
