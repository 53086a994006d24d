import { TusEdgeError } from './errors.js';

/** What a token callback may return: the token alone, or with its expiry. */
export type TokenAnswer = string | { token: string; expiresAt?: number | string | Date };

/**
 * Fetches an upload token from your own backend (which, for example, calls the server's
 * `POST /api/upload-tokens` with its credentials). Called again before the token expires, and once
 * more when the server answers 401.
 *
 * @example
 * const getToken: TokenCallback = async () => {
 *   const res = await fetch('/my-backend/upload-token', { method: 'POST' });
 *   return (await res.json()).token; // a JWT: its `exp` tells the SDK when to refresh
 * };
 */
export type TokenCallback = () => Promise<TokenAnswer> | TokenAnswer;

/** A token is refreshed this long before it expires (or at 80 % of its life when that is shorter). */
export const REFRESH_MARGIN_MS = 30_000;

/** Expiry (ms since epoch) of a JWT from its `exp` claim, or undefined for anything else. */
export function jwtExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function expiryOf(answer: TokenAnswer, token: string): number | undefined {
  if (typeof answer === 'object' && answer.expiresAt !== undefined) {
    const at = answer.expiresAt instanceof Date ? answer.expiresAt.getTime() : typeof answer.expiresAt === 'number' ? answer.expiresAt : Date.parse(answer.expiresAt);
    if (Number.isFinite(at)) return at;
  }
  return jwtExpiry(token);
}

/** Uploads whose token is remembered (oldest forgotten first). */
const PINNED_MAX = 1000;

/**
 * The token every request carries: a static string, or a cached answer of a {@link TokenCallback},
 * fetched again shortly before it expires or after {@link TokenSource.invalidate}. Concurrent
 * requests share one call of the callback.
 *
 * An upload keeps the token it started with, for its own requests and for reading its status and
 * results ({@link TokenSource.forUpload}): the server lets an upload token reach only the uploads it
 * created (and resume them after it expired), so a fresh token would lock the upload out. Fresh
 * tokens go to new uploads; an upload changes token only after the server answers 401.
 */
export class TokenSource {
  private token: string | undefined;
  private refreshAt = Number.POSITIVE_INFINITY;
  private inflight: Promise<string> | undefined;
  private readonly pinned = new Map<string, string>();
  /** Calls made to the callback so far (for diagnostics and tests). */
  fetches = 0;

  constructor(
    private readonly spec: string | TokenCallback | undefined,
    private readonly now: () => number = Date.now,
  ) {
    if (typeof spec === 'string') this.token = spec;
  }

  /** Whether a callback can produce a fresh token (a static token cannot be refreshed). */
  get refreshable(): boolean {
    return typeof this.spec === 'function';
  }

  /** The current token (undefined when auth is off), refreshing it first when it is about to expire. */
  async get(): Promise<string | undefined> {
    if (typeof this.spec !== 'function') return this.token;
    if (this.token !== undefined && this.now() < this.refreshAt) return this.token;
    return this.refresh();
  }

  /**
   * The server refused `refused` (default: the current token): when it is the current one, the next
   * {@link get} calls the callback; a token pinned to an upload is dropped, so the upload takes the
   * current one.
   */
  invalidate(refused: string | undefined = this.token): void {
    for (const [id, token] of this.pinned) if (token === refused) this.pinned.delete(id);
    if (typeof this.spec === 'function' && refused === this.token) this.refreshAt = Number.NEGATIVE_INFINITY;
  }

  /** Remembers the token an upload was made with. */
  pin(uploadId: string, token: string | undefined): void {
    if (token === undefined) return;
    this.pinned.delete(uploadId);
    this.pinned.set(uploadId, token);
    if (this.pinned.size > PINNED_MAX) this.pinned.delete(this.pinned.keys().next().value as string);
  }

  /** The token for requests about one upload: the one it was made with, else the current one. */
  async forUpload(uploadId: string | undefined): Promise<string | undefined> {
    return (uploadId !== undefined ? this.pinned.get(uploadId) : undefined) ?? this.get();
  }

  private refresh(): Promise<string> {
    const callback = this.spec as TokenCallback;
    this.inflight ??= (async () => {
      try {
        this.fetches++;
        const answer = await callback();
        const token = typeof answer === 'string' ? answer : answer?.token;
        if (typeof token !== 'string' || token === '') throw new Error('the token callback returned no token');
        const now = this.now();
        const expires = expiryOf(answer, token);
        this.token = token;
        this.refreshAt = expires === undefined ? Number.POSITIVE_INFINITY : expires - Math.min(REFRESH_MARGIN_MS, (expires - now) * 0.2);
        return token;
      } catch (err) {
        throw err instanceof TusEdgeError ? err : new TusEdgeError('AUTH_FAILED', `token callback failed: ${(err as Error)?.message ?? String(err)}`, { retryable: true, cause: err });
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }

  /** Headers for a fetch (about `uploadId`, when given): `Authorization: Bearer <token>` when there is a token. */
  async headers(uploadId?: string): Promise<Record<string, string>> {
    const token = await this.forUpload(uploadId);
    return token ? { Authorization: `Bearer ${token}` } : {};
  }
}
