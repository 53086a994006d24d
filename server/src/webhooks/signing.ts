import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Signed deliveries, in the manner of Stripe's and Svix's (Standard Webhooks) headers:
 * - `Webhook-Id`: the event id (stable across retries: receivers deduplicate by it);
 * - `Webhook-Timestamp`: seconds since the epoch when this attempt was signed;
 * - `Webhook-Signature`: `v1,<base64 HMAC-SHA256>` over `<timestamp>.<body>`, keyed with the
 *   endpoint's secret as UTF-8 bytes (the whole `whsec_…` string, or WEBHOOK_SECRET as given).
 * A receiver recomputes the HMAC over the raw body it received, compares in constant time, and refuses
 * timestamps too far from its clock (replays).
 */
export const SIGNATURE_VERSION = 'v1';

/** A new endpoint secret: `whsec_` and 32 random bytes in base64url. */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** `v1,<base64>` of HMAC-SHA256(secret, `<timestamp>.<body>`). */
export function signature(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${timestamp}.${body}`).digest('base64');
  return `${SIGNATURE_VERSION},${mac}`;
}

/** The headers of one attempt of a delivery of `eventId` with `body`, signed now. */
export function signedHeaders(secret: string, eventId: string, body: string, now: Date): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    'Content-Type': 'application/json',
    'Webhook-Id': eventId,
    'Webhook-Timestamp': String(timestamp),
    'Webhook-Signature': signature(secret, timestamp, body),
  };
}

/**
 * What a receiver does: true when one of the space-separated `v1,` signatures in `header` matches the
 * body and the timestamp is within `toleranceSec` of `now` (default 5 minutes).
 */
export function verifySignature(
  secret: string, headers: { timestamp: string | undefined; signature: string | undefined }, body: string, now = new Date(), toleranceSec = 300,
): boolean {
  const timestamp = Number(headers.timestamp);
  if (!headers.timestamp || !/^\d+$/.test(headers.timestamp) || Math.abs(now.getTime() / 1000 - timestamp) > toleranceSec) return false;
  const expected = Buffer.from(signature(secret, timestamp, body));
  return (headers.signature ?? '').split(' ').some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
