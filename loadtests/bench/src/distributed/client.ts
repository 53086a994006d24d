/**
 * Client side of `bench:distributed`: the bytes every upload carries (one random pattern, repeated, so
 * the byte at offset `o` is always `pattern[o % pattern.length]` whatever the chunking), a keep-alive
 * HTTP client that sends them without copying, and the tus calls the sections need.
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

const TUS = { 'Tus-Resumable': '1.0.0' };
/** A small Upload-Metadata: filename bench.bin, filetype application/octet-stream. */
export const SMALL_METADATA = `filename ${Buffer.from('bench.bin').toString('base64')},filetype ${Buffer.from('application/octet-stream').toString('base64')}`;

function expectStatus(reply: Reply, status: number, what: string): void {
  if (reply.status !== status) throw new Error(`${what}: expected ${status}, got ${reply.status} ${reply.body.slice(0, 300)}`);
}

/** POST (creation): resolves with the upload URL and the request's latency. */
export async function tusCreate(client: HttpClient, endpoint: string, size: number, metadata?: string): Promise<{ url: string; ms: number }> {
  const reply = await client.request(endpoint, 'POST', { ...TUS, 'Upload-Length': String(size), ...(metadata ? { 'Upload-Metadata': metadata } : {}) });
  expectStatus(reply, 201, `POST ${endpoint}`);
  return { url: new URL(String(reply.headers.location), endpoint).href, ms: reply.ms };
}

/** PATCHes `[0, size)` in `chunk`-byte requests, checking every Upload-Offset; resolves with their latencies, ms. */
export async function tusUpload(client: HttpClient, url: string, size: number, chunk: number): Promise<number[]> {
  const ms: number[] = [];
  for (let offset = 0; offset < size; ) {
    const n = Math.min(chunk, size - offset);
    const reply = await client.request(url, 'PATCH', {
      ...TUS, 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(offset),
    }, { offset, n });
    expectStatus(reply, 204, `PATCH ${url} at ${offset}`);
    if (reply.headers['upload-offset'] !== String(offset + n)) {
      throw new Error(`PATCH ${url}: Upload-Offset ${reply.headers['upload-offset']} after writing up to ${offset + n}`);
    }
    ms.push(reply.ms);
    offset += n;
  }
  return ms;
}

/** The upload id (= S3 object key for both servers): the last path segment of its URL. */
export function uploadIdOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
}
