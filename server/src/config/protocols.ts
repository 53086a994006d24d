/**
 * HTTP protocol settings: HTTP/2 (over TLS, or cleartext h2c for a proxy in front) and the `104`
 * interim responses of the IETF resumable-upload draft.
 */
import { ConfigError, parseBoolean } from '@tus-edge/processors';
import type { RawEnv } from './config.js';

/**
 * How the server listens (`HTTP2`): `off` (default) plain HTTP/1.1; `tls` HTTPS offering h2 and
 * http/1.1 by ALPN on one port (needs `TLS_CERT_FILE` and `TLS_KEY_FILE`, PEM); `h2c` cleartext
 * HTTP/2 with prior knowledge and no HTTP/1.1, for a proxy that speaks h2c to its upstreams.
 */
export type Http2Config = { mode: 'off' } | { mode: 'h2c' } | { mode: 'tls'; certFile: string; keyFile: string };

/** Validated protocol configuration. Every field has a documented default. */
export interface ProtocolsConfig {
  http2: Http2Config;
  /**
   * Send `104 (Upload Resumption Supported)` interim responses to IETF draft clients
   * (`INTERIM_RESPONSES`, default true). Set false behind a proxy that mishandles 1xx: nginx 1.22
   * passes a 104 on as the final response and then hangs the exchange (README, "IETF draft").
   * Without them a client learns the upload URL from the final response only.
   */
  interimResponses: boolean;
}

/** Parses `HTTP2`, `TLS_CERT_FILE`, `TLS_KEY_FILE` and `INTERIM_RESPONSES`; refuses contradictions. */
export function parseProtocols(raw: RawEnv): ProtocolsConfig {
  const interimResponses = raw.INTERIM_RESPONSES ? parseBoolean('INTERIM_RESPONSES', raw.INTERIM_RESPONSES) : true;
  const mode = (raw.HTTP2 ?? 'off').trim().toLowerCase();
  const tlsFiles = raw.TLS_CERT_FILE !== undefined || raw.TLS_KEY_FILE !== undefined;
  if (mode === 'tls') {
    if (!raw.TLS_CERT_FILE || !raw.TLS_KEY_FILE) throw new ConfigError('HTTP2=tls needs both TLS_CERT_FILE and TLS_KEY_FILE');
    return { http2: { mode, certFile: raw.TLS_CERT_FILE, keyFile: raw.TLS_KEY_FILE }, interimResponses };
  }
  if (mode !== 'off' && mode !== 'h2c') throw new ConfigError(`HTTP2="${raw.HTTP2}" must be off, tls or h2c`);
  if (tlsFiles) throw new ConfigError(`TLS_CERT_FILE/TLS_KEY_FILE are set but HTTP2=${mode} serves no TLS: set HTTP2=tls or unset them`);
  return { http2: { mode }, interimResponses };
}
