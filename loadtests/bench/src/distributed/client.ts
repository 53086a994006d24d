/** Client side of `bench:distributed`: the tus calls the sections need (the HTTP client is `../http-client.ts`). */
import { TUS } from '@tus-edge/testkit';
import { expectStatus, type HttpClient } from '../http-client.js';

export { HttpClient, Payload } from '../http-client.js';

/** A small Upload-Metadata: filename bench.bin, filetype application/octet-stream. */
export const SMALL_METADATA = `filename ${Buffer.from('bench.bin').toString('base64')},filetype ${Buffer.from('application/octet-stream').toString('base64')}`;

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
