import { tusError } from '../errors.js';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, type ExpectedChecksum } from '../storage/checksum.js';

export { CHECKSUM_ALGORITHMS };

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
