/** Helpers every test page exposes on `window`: deterministic files and their sha256. */

/** A file of `size` pseudo-random bytes from `seed` (xorshift32), the same bytes on every call. */
export function makeFile(name: string, size: number, seed = 1, type = 'application/octet-stream'): File {
  const bytes = new Uint8Array(size);
  const words = new Uint32Array(bytes.buffer, 0, Math.floor(size / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    words[i] = x;
  }
  for (let i = words.length * 4; i < size; i++) bytes[i] = i & 0xff;
  // A fixed lastModified keeps tus fingerprints equal across page loads.
  return new File([bytes], name, { type, lastModified: 1_700_000_000_000 });
}

/** Hex sha256 of a blob. */
export async function sha256Hex(blob: Blob): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

Object.assign(window, { makeFile, sha256Hex });
