import { describe, expect, it } from 'vitest';
import { jwtExpiry, TokenSource } from './auth.js';
import { TusEdgeError } from './errors.js';

const jwt = (payload: object) => `h.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.s`;

describe('TokenSource', () => {
  it('reads a JWT exp; anything else has no expiry', () => {
    expect(jwtExpiry(jwt({ exp: 1_800_000_000 }))).toBe(1_800_000_000_000);
    expect(jwtExpiry('opaque-token')).toBeUndefined();
    expect(jwtExpiry('a.b!.c')).toBeUndefined();
  });

  it('a static token is used as it is and never refreshed', async () => {
    const source = new TokenSource('static');
    expect(await source.get()).toBe('static');
    source.invalidate();
    expect(await source.get()).toBe('static');
    expect(source.refreshable).toBe(false);
    expect(await new TokenSource(undefined).headers()).toEqual({});
  });

  it('calls the callback once for concurrent requests, then again shortly before the token expires', async () => {
    let now = 1_000_000;
    let n = 0;
    const source = new TokenSource(async () => ({ token: `t${++n}`, expiresAt: now + 100_000 }), () => now);
    expect(await Promise.all([source.get(), source.get(), source.get()])).toEqual(['t1', 't1', 't1']);
    now += 60_000;
    expect(await source.get()).toBe('t1');
    now += 15_000; // 25 s before expiry: the margin is 20 % of a 100 s life, 20 s
    expect(await source.get()).toBe('t1');
    now += 6_000;
    expect(await source.get()).toBe('t2');
    expect(source.fetches).toBe(2);
  });

  it('refreshes a short-lived JWT at 80 % of its life, and after invalidate()', async () => {
    let now = 0;
    let n = 0;
    const source = new TokenSource(() => jwt({ exp: 10, n: ++n }), () => now);
    const first = await source.get();
    now = 7_900;
    expect(await source.get()).toBe(first);
    now = 8_100;
    const second = await source.get();
    expect(second).not.toBe(first);
    source.invalidate();
    expect(await source.get()).not.toBe(second);
  });

  it('an upload keeps its token while new uploads get fresh ones; a refused token is dropped where it was pinned', async () => {
    let now = 0;
    let n = 0;
    const source = new TokenSource(async () => ({ token: `t${++n}`, expiresAt: now + 10_000 }), () => now);
    source.pin('a', await source.get());
    now = 9_000; // inside the refresh margin: new uploads get a fresh token
    expect(await source.get()).toBe('t2');
    expect(await source.forUpload('a')).toBe('t1');
    expect(await source.headers('a')).toEqual({ Authorization: 'Bearer t1' });
    expect(await source.forUpload('b')).toBe('t2');
    source.invalidate('t1'); // the server refused upload a's token: not the current one
    expect(await source.forUpload('a')).toBe('t2');
    expect(source.fetches).toBe(2);
    source.invalidate('t2');
    expect(await source.forUpload('a')).toBe('t3');
  });

  it('a failing callback is an AUTH_FAILED error, and the next call tries again', async () => {
    let fail = true;
    const source = new TokenSource(async () => {
      if (fail) throw new Error('backend down');
      return 'ok';
    });
    const err = await source.get().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TusEdgeError);
    expect((err as TusEdgeError).code).toBe('AUTH_FAILED');
    fail = false;
    expect(await source.headers()).toEqual({ Authorization: 'Bearer ok' });
  });
});
