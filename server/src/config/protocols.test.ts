import { describe, expect, it } from 'vitest';
import { parseProtocols } from './protocols.js';

describe('parseProtocols', () => {
  it('defaults to HTTP/1.1 with interim responses', () => {
    expect(parseProtocols({})).toEqual({ http2: { mode: 'off' }, interimResponses: true });
  });
  it('reads HTTP2=tls with its files, HTTP2=h2c, and INTERIM_RESPONSES', () => {
    expect(parseProtocols({ HTTP2: 'tls', TLS_CERT_FILE: '/c.pem', TLS_KEY_FILE: '/k.pem' }).http2).toEqual({ mode: 'tls', certFile: '/c.pem', keyFile: '/k.pem' });
    expect(parseProtocols({ HTTP2: 'h2c', INTERIM_RESPONSES: 'false' })).toEqual({ http2: { mode: 'h2c' }, interimResponses: false });
  });
  it('refuses contradictions, naming the variables', () => {
    expect(() => parseProtocols({ HTTP2: 'tls', TLS_CERT_FILE: '/c.pem' })).toThrow(/HTTP2=tls needs both TLS_CERT_FILE and TLS_KEY_FILE/);
    expect(() => parseProtocols({ TLS_CERT_FILE: '/c.pem', TLS_KEY_FILE: '/k.pem' })).toThrow(/TLS_CERT_FILE\/TLS_KEY_FILE are set but HTTP2=off/);
    expect(() => parseProtocols({ HTTP2: 'yes' })).toThrow(/HTTP2="yes" must be off, tls or h2c/);
    expect(() => parseProtocols({ INTERIM_RESPONSES: 'maybe' })).toThrow(/INTERIM_RESPONSES/);
  });
});
