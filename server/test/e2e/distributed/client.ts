/**
 * A minimal tus client for the distributed tests: node:http, so a test can stall a body, cut a
 * connection mid-body, or see exactly which node answered.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { createS3Client } from '@tus-edge/testkit';
import type { Stack } from '@tus-edge/testkit';

export const TUS = { 'Tus-Resumable': '1.0.0' };

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** The answer to `req`, body as text; rejects on a connection error. */
function replyOf(req: http.ClientRequest): Promise<Reply> {
  return new Promise((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

export function send(url: string, method: string, headers: Record<string, string>, body?: Buffer): Promise<Reply> {
  const req = http.request(url, { method, headers: { ...TUS, ...headers }, agent: false });
  const reply = replyOf(req);
  req.end(body);
  return reply;
}

export async function create(base: string, length: number): Promise<string> {
  const r = await send(`${base}/files`, 'POST', { 'Upload-Length': String(length) });
  if (r.status !== 201) throw new Error(`POST ${r.status} ${r.body}`);
  return new URL(String(r.headers.location), base).pathname;
}

export async function offsetAt(base: string, path: string): Promise<number> {
  const r = await send(base + path, 'HEAD', {});
  if (r.status !== 200) throw new Error(`HEAD ${r.status}`);
  return Number(r.headers['upload-offset']);
}

export function patch(base: string, path: string, offset: number, body: Buffer): Promise<Reply> {
  return send(base + path, 'PATCH', {
    'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream', 'Content-Length': String(body.length),
  }, body);
}

export interface OpenPatch {
  /** Writes more of the body; resolves once handed to the socket. */
  write(chunk: Buffer): Promise<void>;
  /** Cuts the connection mid-body, as a client losing its network. */
  cut(): void;
  /** The server's answer, or the connection error. */
  reply: Promise<Reply>;
}

/** Starts a PATCH announcing `length` bytes, and lets the test feed or stall the body. */
export function openPatch(base: string, path: string, offset: number, length: number): OpenPatch {
  const req = http.request(base + path, {
    method: 'PATCH', agent: false,
    headers: { ...TUS, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream', 'Content-Length': String(length) },
  });
  const reply = replyOf(req);
  reply.catch(() => undefined);
  req.flushHeaders();
  return {
    write: (chunk) => new Promise((resolve, reject) => req.write(chunk, (err) => (err ? reject(err) : resolve()))),
    cut: () => req.destroy(),
    reply,
  };
}

/** The bytes of a finished upload, read straight from the stack's bucket (not through the server). */
export async function readObject(stack: Stack, path: string): Promise<Buffer> {
  const res = await createS3Client(stack.s3).getObject({ Bucket: stack.s3.bucket, Key: path.split('/').pop()! });
  return Buffer.from(await res.Body!.transformToByteArray());
}
