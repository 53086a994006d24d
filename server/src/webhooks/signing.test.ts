import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newSecret, signedHeaders, verifySignature } from './signing.js';
import { backoffMs, deliveryId, operatorEndpointId } from './webhooks.js';

describe('webhook signatures', () => {
  it('signs `<timestamp>.<body>` with HMAC-SHA256 in Webhook-* headers a receiver verifies', () => {
    const secret = newSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const body = JSON.stringify({ id: 'upload.finished.u1', type: 'upload.finished' });
    const now = new Date('2030-01-01T00:00:00Z');
    const headers = signedHeaders(secret, 'upload.finished.u1', body, now);
    expect(headers['Webhook-Id']).toBe('upload.finished.u1');
    expect(headers['Webhook-Timestamp']).toBe(String(now.getTime() / 1000));
    const expected = createHmac('sha256', secret).update(`${headers['Webhook-Timestamp']}.${body}`).digest('base64');
    expect(headers['Webhook-Signature']).toBe(`v1,${expected}`);
    const h = { timestamp: headers['Webhook-Timestamp'], signature: headers['Webhook-Signature'] };
    expect(verifySignature(secret, h, body, now)).toBe(true);
    expect(verifySignature(secret, { ...h, signature: `v1,bogus ${h.signature}` }, body, now)).toBe(true);
    expect(verifySignature(secret, h, `${body} `, now)).toBe(false);
    expect(verifySignature(newSecret(), h, body, now)).toBe(false);
    expect(verifySignature(secret, h, body, new Date(now.getTime() + 301_000))).toBe(false);
    expect(verifySignature(secret, { ...h, timestamp: undefined }, body, now)).toBe(false);
  });

  it('backs off exponentially with jitter, within the maximum', () => {
    expect(backoffMs(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(backoffMs(1, 1000, 60_000, () => 0)).toBe(500);
    expect(backoffMs(4, 1000, 60_000, () => 1)).toBe(8000);
    expect(backoffMs(30, 1000, 60_000, () => 1)).toBe(60_000);
    expect(backoffMs(100, 1000, 60_000, () => 0.5)).toBe(45_000);
  });

  it('names deliveries and operator endpoints the same on every node', () => {
    expect(deliveryId('wh_1', 'ev')).toBe(deliveryId('wh_1', 'ev'));
    expect(deliveryId('wh_1', 'ev')).not.toBe(deliveryId('wh_2', 'ev'));
    expect(operatorEndpointId('https://ops.example/hook')).toMatch(/^op_[0-9a-f]{16}$/);
  });
});
