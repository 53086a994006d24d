/**
 * A minimal tus client for the distributed tests: node:http, so a test can stall a body, cut a
 * connection mid-body, or see exactly which node answered.
 */
import { createS3Client, httpRequest, openRequest, OCTET, TUS, type HttpReply } from '@tus-edge/testkit';
import type { Stack } from '@tus-edge/testkit';

export { sha256, TUS } from '@tus-edge/testkit';

export interface Reply {
  status: number;
  headers: HttpReply['headers'];
  body: string;
}

const asText = (r: HttpReply): Reply => ({ status: r.status, headers: r.headers, body: r.body.toString('utf8') });

export async function send(url: string, method: string, headers: Record<string, string>, body?: Buffer): Promise<Reply> {
  return asText(await httpRequest(url, method, { ...TUS, ...headers }, body));
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
  return send(base + path, 'PATCH', { 'Upload-Offset': String(offset), 'Content-Type': OCTET, 'Content-Length': String(body.length) }, body);
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
  const open = openRequest(base + path, 'PATCH', { ...TUS, 'Upload-Offset': String(offset), 'Content-Type': OCTET, 'Content-Length': String(length) });
  const reply = open.reply.then(asText);
  reply.catch(() => undefined);
  return { write: open.write, cut: open.cut, reply };
}

/** The bytes of a finished upload, read straight from the stack's bucket (not through the server). */
export async function readObject(stack: Stack, path: string): Promise<Buffer> {
  const res = await createS3Client(stack.s3).getObject({ Bucket: stack.s3.bucket, Key: path.split('/').pop()! });
  return Buffer.from(await res.Body!.transformToByteArray());
}

/** Runs `work` and says how long it took (whole milliseconds). */
export async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: Math.round(performance.now() - started) };
}
