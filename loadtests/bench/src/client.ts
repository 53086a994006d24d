/**
 * Client side of the benchmark: one keep-alive HTTP client that sends request bodies from a single
 * pre-filled in-memory buffer, and the two upload protocols the local targets speak (tus, and the raw
 * sinks' PUT-append) behind one small {@link Uploader} interface. A target that does not speak HTTP
 * (say a direct S3 multipart upload) implements the same interface.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
}

/** An upload in progress on some target. */
export interface Upload {
  /** Appends `n` bytes at `offset`; resolves with the request's latency in ms, rejects on any failure. */
  write(offset: number, n: number): Promise<number>;
  /** Deletes the upload (untimed clean-up). */
  remove(): Promise<void>;
}

/** How a scenario talks to a target. */
export interface Uploader {
  /** Starts an upload of `size` bytes (tus: a POST; sinks: nothing), as untimed set-up. */
  open(size: number): Promise<Upload>;
  /**
   * Optional capability: a timed upload creation (tus POST). Targets without a creation step (the raw
   * sinks) leave it out and the creation scenario reports them as n/a.
   */
  create?(size: number): Promise<{ ms: number; upload: Upload }>;
  /** Closes idle connections. */
  close(): void;
}

/** A keep-alive client whose request bodies are slices of `payload`, written with backpressure. */
export class HttpClient {
  // Sequential scenarios use one connection at a time (a free socket is reused); concurrent ones open
  // as many as they have requests in flight.
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

  constructor(private readonly payload: Buffer) {}

  /** One request; a body of `bodyBytes` is sent from the pre-filled payload buffer. */
  request(url: string, method: string, headers: Record<string, string>, bodyBytes = 0): Promise<Reply> {
    const { payload } = this;
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const u = new URL(url);
      let left = bodyBytes;
      const req = http.request(
        {
          agent: this.agent, hostname: u.hostname, port: u.port, path: u.pathname + u.search, method,
          headers: { ...headers, 'Content-Length': String(bodyBytes) },
        },
        (res) => {
          left = 0;
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms: performance.now() - started }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      const pump = () => {
        while (left > 0) {
          const n = Math.min(left, payload.length);
          left -= n;
          if (!req.write(n === payload.length ? payload : payload.subarray(0, n))) {
            req.once('drain', pump);
            return;
          }
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

export function expectStatus(reply: Reply, status: number, what: string): void {
  if (reply.status !== status) throw new Error(`${what}: expected ${status}, got ${reply.status} ${reply.body.slice(0, 300)}`);
}

const TUS = { 'Tus-Resumable': '1.0.0' };

/** tus 1.0 creation + core: POST with Upload-Length, PATCH at Upload-Offset (checked), DELETE. */
export function tusUploader(http: HttpClient, endpoint: string, label: string): Uploader {
  const create = async (size: number) => {
    const created = await http.request(endpoint, 'POST', { ...TUS, 'Upload-Length': String(size) });
    expectStatus(created, 201, `${label} POST`);
    const url = new URL(String(created.headers.location), endpoint).href;
    const upload: Upload = {
      async write(offset, n) {
        const reply = await http.request(url, 'PATCH', {
          ...TUS, 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(offset),
        }, n);
        expectStatus(reply, 204, `${label} PATCH at ${offset}`);
        if (reply.headers['upload-offset'] !== String(offset + n)) {
          throw new Error(`${label}: Upload-Offset ${reply.headers['upload-offset']} after writing ${offset + n}`);
        }
        return reply.ms;
      },
      async remove() {
        expectStatus(await http.request(url, 'DELETE', TUS), 204, `${label} DELETE`);
      },
    };
    return { ms: created.ms, upload };
  };
  return { open: async (size) => (await create(size)).upload, create, close: () => http.close() };
}

let sinkSeq = 0;

/** The raw sinks: `PUT <base>/<name>` writes (`X-Append: 1` appends), `DELETE` removes. No creation. */
export function sinkUploader(http: HttpClient, base: string, label: string): Uploader {
  return {
    async open() {
      const url = `${base}/u-${process.pid}-${Date.now()}-${++sinkSeq}`;
      return {
        async write(offset, n) {
          const reply = await http.request(url, 'PUT', {
            'Content-Type': 'application/octet-stream', 'X-Append': offset > 0 ? '1' : '0',
          }, n);
          expectStatus(reply, 204, `${label} write at ${offset}`);
          return reply.ms;
        },
        async remove() {
          expectStatus(await http.request(url, 'DELETE', {}), 204, `${label} DELETE`);
        },
      };
    },
    close: () => http.close(),
  };
}

/**
 * Writes and unlinks `size` bytes of scratch file (untimed), so every upload starts with that much
 * just-freed page cache. On this VM, DAMON pages out memory idle for ~3 s and the balloon's free page
 * reporting hands freed pages back to the host, so a write into page cache costs ~3 s/GiB of faults
 * when cold vs ~0.3 s/GiB when warm; without this, a target's number depends on how warm the pages
 * it happens to get are, and the spread between invocations is larger than the differences measured.
 * Disabled (`dir` undefined) it does nothing.
 */
export function prewarm(dir: string | undefined, payload: Buffer, size: number): void {
  if (!dir) return;
  const file = path.join(dir, 'scratch');
  const fd = fs.openSync(file, 'w');
  try {
    for (let done = 0; done < size; done += payload.length) fs.writeSync(fd, payload, 0, Math.min(payload.length, size - done));
  } finally {
    fs.closeSync(fd);
    fs.unlinkSync(file);
  }
}
