import { createHash, timingSafeEqual } from 'node:crypto';
import { tusError } from '../errors.js';
import { ownerKey } from '../limits/usage.js';
import type { UploadRecord } from '../records/types.js';

/** Limits an upload token carries; each is optional. */
export interface UploadTokenLimits {
  /** Largest upload, in bytes. */
  maxSize?: number;
  /** Media types (`type/subtype` or `type/*`) the bytes may be. */
  types?: string[];
  /** How many uploads the token may create. */
  maxUploads?: number;
}

/**
 * Who is calling, as the auth middleware found out once per request:
 * - `anonymous`: auth is off (`AUTH_MODE=none`); every upload is reachable;
 * - `user`: a verified bearer JWT, owner = its `sub`, scoped by its tenant claim; `plan` from its `plan` claim;
 * - `upload-token`: a capability minted by `POST /api/upload-tokens`, bound to an owner and limits;
 *   `expired` ones may still resume the uploads they created, never create more;
 * - `signed-url`: a valid signature on exactly this path (a download without a token);
 * - `operator`: the bearer is `OPERATOR_TOKEN`: the operator's routes (admin page, analytics of every
 *   owner, dead letters); it reaches every upload and creates none.
 */
export type Identity =
  | { kind: 'anonymous'; address: string }
  | { kind: 'user'; owner: string; tenant?: string; plan?: string; address: string }
  | { kind: 'upload-token'; owner: string; tenant?: string; tokenId: string; limits: UploadTokenLimits; expired: boolean; address: string }
  | { kind: 'signed-url'; path: string; address: string }
  | { kind: 'operator'; address: string };

/** The key rate limits count against: the tenant-scoped owner, or the client address without one. */
export function rateKey(identity: Identity): string {
  return 'owner' in identity ? ownerKey(identity.owner, identity.tenant) : identity.kind === 'operator' ? 'operator' : `ip:${identity.address}`;
}

/** Throws unless the caller is the operator (`Authorization: Bearer <OPERATOR_TOKEN>`). */
export function requireOperator(identity: Identity | undefined): void {
  if (identity?.kind !== 'operator') throw tusError('OPERATOR_REQUIRED');
}


/**
 * Whether `identity` may reach `record`: the same owner and tenant, and for an upload token only the
 * uploads it created. Anonymous (auth off) reaches everything; a signed URL was already checked on its path.
 */
export function mayAccess(identity: Identity, record: UploadRecord): boolean {
  switch (identity.kind) {
    case 'anonymous':
    case 'signed-url':
    case 'operator':
      return true;
    case 'user':
      return record.owner === identity.owner && (record.tenant ?? undefined) === identity.tenant;
    case 'upload-token':
      return record.owner === identity.owner && (record.tenant ?? undefined) === identity.tenant && record.tokenId === identity.tokenId;
  }
}

/** Compares a secret a caller gave with the expected one in constant time (whatever their lengths). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
