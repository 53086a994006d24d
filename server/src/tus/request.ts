import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { Context } from 'hono';
import type { Identity } from '../auth/identity.js';

/** The parts of an HTTP request the tus handlers read, independent of Hono. */
export interface TusRequest {
  /** Effective method, after `X-HTTP-Method-Override`. */
  method: string;
  /** Upload id from the URL, or undefined on the collection URL. */
  id: string | undefined;
  header(name: string): string | undefined;
  /** The body as a Node stream; on Node this is the socket stream itself, with no copies. */
  body(): Readable;
  /** HTTP trailers, available once the body has ended. */
  trailer(name: string): string | undefined;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
  url: URL;
  /** Who is calling (set by the auth middleware); undefined when the tus routes run without it. */
  identity?: Identity;
}

export function toTusRequest(c: Context, id: string | undefined): TusRequest {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const override = c.req.header('x-http-method-override');
  return {
    method: (override ?? c.req.method).toUpperCase(),
    id,
    header: (name) => c.req.header(name),
    body: () => incoming ?? (c.req.raw.body ? Readable.fromWeb(c.req.raw.body as never) : Readable.from([])),
    trailer: (name) => {
      const value = incoming?.trailers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    signal: c.req.raw.signal,
    url: new URL(c.req.url),
    identity: c.get('identity'),
  };
}
