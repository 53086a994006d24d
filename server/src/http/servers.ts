/**
 * The listening server, chosen once from `config.protocols.http2`: node:http (HTTP/1.1), an HTTPS
 * server offering h2 and http/1.1 by ALPN, or cleartext HTTP/2 (h2c) for a proxy in front. Each
 * serves the same request listener (@hono/node-server takes both Node APIs).
 */
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { Config } from '../config/config.js';

/** What @hono/node-server's `getRequestListener` returns. */
export type Listener = (
  incoming: http.IncomingMessage | http2.Http2ServerRequest,
  outgoing: http.ServerResponse | http2.Http2ServerResponse,
) => unknown;

/**
 * An HTTP/2 stream may carry this much of an upload before the server's window update (the default
 * 64 KiB throttles an upload to one window per round trip), and a connection the same for all its
 * streams together.
 */
const STREAM_WINDOW_BYTES = 16 * 1024 * 1024;
const CONNECTION_WINDOW_BYTES = 64 * 1024 * 1024;
/** Largest DATA frame a client may send (the default 16 KiB means a frame, and a read, per 16 KiB). */
const MAX_FRAME_BYTES = 1024 * 1024;

export interface HttpServer {
  server: http.Server | http2.Http2Server | http2.Http2SecureServer;
  /** `http` or `https`. */
  scheme: 'http' | 'https';
  /** Stops accepting, closes idle connections (GOAWAY on HTTP/2), and ends the rest after `graceMs`. */
  close(graceMs: number): Promise<void>;
}

/** Creates (does not start) the server for `config`. */
export function createHttpServer(config: Config, listener: Listener): HttpServer {
  const mode = config.protocols.http2;
  if (mode.mode === 'off') return http1(config, listener);
  const options: http2.SecureServerOptions = {
    settings: { initialWindowSize: STREAM_WINDOW_BYTES, maxFrameSize: MAX_FRAME_BYTES, maxHeaderListSize: config.security.maxHeaderBytes },
    maxSessionMemory: 64,
  };
  const server = mode.mode === 'tls'
    ? http2.createSecureServer({ ...options, cert: fs.readFileSync(mode.certFile), key: fs.readFileSync(mode.keyFile), allowHTTP1: true }, listener)
    : http2.createServer(options, listener);
  const sessions = new Set<http2.ServerHttp2Session>();
  const sockets = new Set<Socket>();
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    session.once('connect', () => session.setLocalWindowSize(CONNECTION_WINDOW_BYTES));
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // A connection with no traffic for this long is closed (IDLE_TIMEOUT), as on HTTP/1.1.
  server.setTimeout(config.idleTimeoutMs);
  return {
    server,
    scheme: mode.mode === 'tls' ? 'https' : 'http',
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const session of sessions) session.close();
        setTimeout(() => {
          for (const session of sessions) session.destroy();
          for (const socket of sockets) socket.destroy();
        }, graceMs).unref();
      }),
  };
}

function http1(config: Config, listener: Listener): HttpServer {
  // MAX_HEADER_SIZE bounds a request head; headersTimeout below bounds how long it may take to arrive.
  const server = http.createServer({ maxHeaderSize: config.security.maxHeaderBytes }, listener as http.RequestListener);
  // Long uploads in one request must not be cut by Node's 5-minute default request timeout.
  server.requestTimeout = 0;
  // "A timeout SHOULD be handled by closing the underlying connection": a connection with no traffic
  // for this long is closed; a PATCH on it keeps the bytes it received.
  server.timeout = config.idleTimeoutMs;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 65_000;
  return {
    server,
    scheme: 'http',
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), graceMs).unref();
      }),
  };
}
