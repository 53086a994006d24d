import { createHash, type Hash } from 'node:crypto';
import { tusError } from '../errors.js';

/** Supported algorithms, advertised in `Tus-Checksum-Algorithm`. sha1 is required by the spec. */
export const CHECKSUM_ALGORITHMS = ['sha1', 'md5', 'sha256', 'sha512'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export interface ExpectedChecksum {
  algorithm: ChecksumAlgorithm;
  /** Decoded digest bytes. */
  digest: Buffer;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses `Upload-Checksum: <algorithm> <base64>`; unknown algorithm → 400, malformed → 400. */
export function parseChecksum(value: string): ExpectedChecksum {
  const parts = value.trim().split(/\s+/);
  if (parts.length !== 2 || !BASE64.test(parts[1]) || parts[1].length % 4 !== 0) {
    throw tusError('INVALID_CHECKSUM_HEADER', JSON.stringify(value));
  }
  const algorithm = parts[0].toLowerCase();
  if (!(CHECKSUM_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw tusError('UNSUPPORTED_CHECKSUM_ALGORITHM', parts[0]);
  }
  return { algorithm: algorithm as ChecksumAlgorithm, digest: Buffer.from(parts[1], 'base64') };
}

export function newHash(algorithm: ChecksumAlgorithm): Hash {
  return createHash(algorithm);
}
