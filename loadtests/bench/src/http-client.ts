/**
 * The benchmark's HTTP client, for both parts: the bytes every upload carries (one pattern, repeated,
 * so the byte at offset `o` is always `pattern[o % pattern.length]` whatever the chunking), and a
 * keep-alive HTTP/1.1 client that sends them without copying, with backpressure.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { Readable } from 'node:stream';

/** The upload bytes: `pattern` repeated. */
export class Payload {
  constructor(readonly pattern: Buffer) {}

  /** Slices of the pattern covering `[offset, offset + n)`, without copying. */
  *slices(offset: number, n: number): Generator<Buffer> {
    const p = this.pattern;
    let at = offset;
    const end = offset + n;
    while (at < end) {
      const start = at % p.length;
      const len = Math.min(p.length - start, end - at);
      yield p.subarray(start, start + len);
      at += len;
    }
  }

  /** A stream of the first `n` bytes (for the SDK's Upload). */
  stream(n: number): Readable {
    return Readable.from(this.slices(0, n), { objectMode: false });
  }

  /** sha256 (hex) of the first `n` bytes. */
  sha256(n: number): string {
    const hash = createHash('sha256');
    for (const s of this.slices(0, n)) hash.update(s);
    return hash.digest('hex');
  }
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
}

/** A keep-alive HTTP/1.1 client; request bodies come from a {@link Payload}. */
export class HttpClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

  constructor(private readonly payload: Payload) {}

  /** One request; with `body`, sends `body.n` payload bytes from payload offset `body.offset`. */
  request(url: string, method: string, headers: Record<string, string>, body?: { offset: number; n: number }): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const u = new URL(url);
      const req = http.request(
        {
          agent: this.agent, hostname: u.hostname, port: u.port, path: u.pathname + u.search, method,
          headers: { ...headers, 'Content-Length': String(body?.n ?? 0) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, ms: performance.now() - started }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (!body) return void req.end();
      const slices = this.payload.slices(body.offset, body.n);
      const pump = () => {
        for (let s = slices.next(); !s.done; s = slices.next()) {
          if (!req.write(s.value)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Throws unless `reply` has `status`, naming `what` and the start of the body. */
export function expectStatus(reply: Reply, status: number, what: string): void {
  if (reply.status !== status) throw new Error(`${what}: expected ${status}, got ${reply.status} ${reply.body.slice(0, 300)}`);
}

/** One tus request on `agent` (`Tus-Resumable: 1.0.0` added), the response body drained: its status and headers. */
export function tusRequest(agent: http.Agent, url: URL, method: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: { 'Tus-Resumable': '1.0.0', ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
