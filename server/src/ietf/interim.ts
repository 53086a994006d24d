/**
 * `104 (Upload Resumption Supported)` interim responses. Hono's Response model has no informational
 * responses, so they are written on the Node response underneath (`c.env.outgoing`) before the final
 * response starts: on HTTP/1.1 as a raw status block (what `writeEarlyHints` does for 103), on
 * HTTP/2 as an extra HEADERS frame (`stream.additionalHeaders`). Where neither is possible (HTTP/1.0,
 * a response already started, no Node response) nothing is sent: interim responses are optional, and
 * a client then learns the upload's URL from the final response.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import type { Readable } from 'node:stream';
import type { Context } from 'hono';
import { HeldBody } from '../storage/held-body.js';

/** Sends interim responses for one request. */
export interface Interim {
  /** Sends `104 Upload Resumption Supported` with `headers`; false when it could not be sent. */
  send(headers: Record<string, string>): boolean;
}

const STATUS_LINE = 'HTTP/1.1 104 Upload Resumption Supported\r\n';
/** Header names and values that can go on the wire as they are. */
const SAFE_NAME = /^[A-Za-z0-9-]+$/;
const SAFE_VALUE = /^[\x20-\x7e]*$/;

type RawResponse = ServerResponse & { _writeRaw?(data: string, encoding: BufferEncoding): boolean };

/** The interim sender of a request served by @hono/node-server, or undefined when there is no Node response. */
export function interimFor(c: Context): Interim | undefined {
  const env = c.env as { incoming?: IncomingMessage; outgoing?: RawResponse | Http2ServerResponse } | undefined;
  const outgoing = env?.outgoing;
  if (!outgoing) return undefined;
  if ('stream' in outgoing && outgoing.stream) {
    const h2 = outgoing as Http2ServerResponse;
    return {
      send(headers) {
        if (h2.headersSent || h2.stream.destroyed) return false;
        const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
        h2.stream.additionalHeaders({ ':status': 104, ...lower });
        return true;
      },
    };
  }
  const res = outgoing as RawResponse;
  // "A server MUST NOT send a 1xx response to an HTTP/1.0 client" (RFC 9110 §15.2).
  if (env?.incoming && env.incoming.httpVersion === '1.0') return undefined;
  return {
    send(headers) {
      if (res.headersSent || res.writableEnded || res.destroyed || !res.socket) return false;
      let head = STATUS_LINE;
      for (const [name, value] of Object.entries(headers)) {
        if (!SAFE_NAME.test(name) || !SAFE_VALUE.test(value)) return false;
        head += `${name}: ${value}\r\n`;
      }
      head += '\r\n';
      // The same private writer Node's writeEarlyHints uses: it goes out before the final response.
      if (typeof res._writeRaw === 'function') res._writeRaw(head, 'latin1');
      else res.socket.write(head, 'latin1');
      return true;
    },
  };
}

/**
 * A request body taken in from its first byte (see {@link HeldBody}) that counts the bytes it has
 * handed on to the storage writer, for progress interim responses.
 */
export class CountingBody extends HeldBody {
  private received = 0;

  constructor(incoming: Readable) {
    super(incoming);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null, data?: Buffer) => void): void {
    this.received += chunk.length;
    callback(null, chunk);
  }

  /** Bytes read by the writer so far (received minus what still waits in this stream's buffer). */
  get delivered(): number {
    return this.received - this.readableLength;
  }
}

/**
 * While a body is written: every `everyMs`, a 104 with `Upload-Offset` at `base` plus the bytes the
 * writer had taken one period earlier (so a reported offset is one the writer has had a period to
 * store). Returns the function that stops it.
 */
export function reportProgress(interim: Interim, body: CountingBody, base: number, everyMs: number): () => void {
  let previous = 0;
  let reported = 0;
  const timer = setInterval(() => {
    if (previous > reported) {
      reported = previous;
      if (!interim.send({ 'Upload-Offset': String(base + reported) })) clearInterval(timer);
    }
    previous = body.delivered;
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
