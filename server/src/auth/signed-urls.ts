import { createHmac, timingSafeEqual } from 'node:crypto';

/** Query parameters of a signed URL. */
export const SIGNED_PARAMS = { expires: 'expires', signature: 'signature' } as const;

export type SignedUrlCheck = 'valid' | 'expired' | 'invalid';

/**
 * Signed download URLs: `<path>?expires=<unix seconds>&signature=<base64url HMAC-SHA256>` over the
 * method, the path and the expiry, with the first `SIGNING_SECRET` key; any key verifies (rotation).
 * The path is exact: a signature for one upload or result never opens another.
 */
export class UrlSigner {
  constructor(private readonly secrets: string[], private readonly now: () => Date) {}

  get enabled(): boolean {
    return this.secrets.length > 0;
  }

  /** The path with its signature, valid until `expiresAt` (rounded down to the second). */
  sign(path: string, expiresAt: Date): string {
    const expires = String(Math.floor(expiresAt.getTime() / 1000));
    const signature = this.mac(this.secrets[0], path, expires);
    return `${path}?${SIGNED_PARAMS.expires}=${expires}&${SIGNED_PARAMS.signature}=${signature}`;
  }

  /** Checks `expires` and `signature` of a request for `path`, in constant time per key. */
  verify(path: string, expires: string | undefined, signature: string | undefined): SignedUrlCheck {
    if (!expires || !signature || !/^\d{1,12}$/.test(expires) || !/^[A-Za-z0-9_-]{43}$/.test(signature)) return 'invalid';
    const given = Buffer.from(signature, 'base64url');
    const ok = this.secrets.some((secret) => {
      const expected = Buffer.from(this.mac(secret, path, expires), 'base64url');
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
    if (!ok) return 'invalid';
    return Number(expires) * 1000 <= this.now().getTime() ? 'expired' : 'valid';
  }

  private mac(secret: string, path: string, expires: string): string {
    return createHmac('sha256', secret).update(`GET\n${path}\n${expires}`).digest('base64url');
  }
}
