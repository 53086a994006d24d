/**
 * Client side of the file benchmark: the two upload protocols the local targets speak (tus, and the
 * raw sinks' PUT-append) behind one small {@link Uploader} interface, over the keep-alive client of
 * `http-client.ts` (every body starts at the payload's first byte). A target that does not speak HTTP
 * (say a direct S3 multipart upload) implements the same interface.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TUS } from '@tus-edge/testkit';
import { expectStatus, type HttpClient } from './http-client.js';

export { expectStatus, HttpClient, Payload } from './http-client.js';

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
        }, { offset: 0, n });
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
          }, { offset: 0, n });
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
