import { createHash, type Hash } from 'node:crypto';

/** Supported algorithms, advertised in `Tus-Checksum-Algorithm`. sha1 is required by the spec. */
export const CHECKSUM_ALGORITHMS = ['sha1', 'md5', 'sha256', 'sha512'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** The digest a write must match. */
export interface ExpectedChecksum {
  algorithm: ChecksumAlgorithm;
  /** Decoded digest bytes. */
  digest: Buffer;
}

export function newHash(algorithm: ChecksumAlgorithm): Hash {
  return createHash(algorithm);
}
