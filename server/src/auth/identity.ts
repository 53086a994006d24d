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
 * - `user`: a verified bearer JWT, owner = its `sub`, scoped by its tenant claim;
 * - `upload-token`: a capability minted by `POST /api/upload-tokens`, bound to an owner and limits;
 *   `expired` ones may still resume the uploads they created, never create more;
 * - `signed-url`: a valid signature on exactly this path (a download without a token).
 */
export type Identity =
  | { kind: 'anonymous'; address: string }
  | { kind: 'user'; owner: string; tenant?: string; address: string }
  | { kind: 'upload-token'; owner: string; tenant?: string; tokenId: string; limits: UploadTokenLimits; expired: boolean; address: string }
  | { kind: 'signed-url'; path: string; address: string };

/** The key rate limits count against: the tenant-scoped owner, or the client address without one. */
export function rateKey(identity: Identity): string {
  return 'owner' in identity ? ownerKey(identity.owner, identity.tenant) : `ip:${identity.address}`;
}


/**
 * Whether `identity` may reach `record`: the same owner and tenant, and for an upload token only the
 * uploads it created. Anonymous (auth off) reaches everything; a signed URL was already checked on its path.
 */
export function mayAccess(identity: Identity, record: UploadRecord): boolean {
  switch (identity.kind) {
    case 'anonymous':
    case 'signed-url':
      return true;
    case 'user':
      return record.owner === identity.owner && (record.tenant ?? undefined) === identity.tenant;
    case 'upload-token':
      return record.owner === identity.owner && (record.tenant ?? undefined) === identity.tenant && record.tokenId === identity.tokenId;
  }
}
