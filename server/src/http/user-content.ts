/**
 * Headers of every download of user content: nothing sniffed, nothing run. `sandbox` makes a document
 * opened anyway a unique opaque origin without scripts, so it cannot read our cookies or API.
 */
export const USER_CONTENT_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "sandbox; default-src 'none'",
} as const;
