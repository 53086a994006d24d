/**
 * The tus test client of every workspace's tests: the protocol headers, and node:http requests that a
 * test can stall, feed piece by piece or cut mid-body, with paths sent exactly as given (no URL
 * normalisation) and a fresh connection each (so a test sees exactly which node answered).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';

/** The header every tus request but OPTIONS carries. */
export const TUS: Readonly<Record<string, string>> = { 'Tus-Resumable': '1.0.0' };
/** The Content-Type of a PATCH body. */
export const OCTET = 'application/offset+octet-stream';

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A request given by URL, or by host, port and a path sent as it is. */
export type Target = string | { host: string; port: number; path: string };

/** The answer to `req`, whole; rejects on a connection error. */
export function replyOf(req: http.ClientRequest): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

function requestOf(target: Target, method: string, headers: Record<string, string>): http.ClientRequest {
  return typeof target === 'string'
    ? http.request(target, { method, headers, agent: false })
    : http.request({ ...target, method, headers, agent: false });
}

/**
 * One request on a fresh connection; no header is added.
 *
 * @example
 * const r = await httpRequest(`${url}/files`, 'POST', { ...TUS, 'Upload-Length': '5' });
 */
export function httpRequest(target: Target, method: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<HttpReply> {
  const req = requestOf(target, method, headers);
  const reply = replyOf(req);
  req.end(body);
  return reply;
}

export interface OpenRequest {
  req: http.ClientRequest;
  /** Writes more of the body; resolves once handed to the socket. */
  write(chunk: Buffer): Promise<void>;
  /** Cuts the connection mid-body, as a client losing its network. */
  cut(): void;
  /** The server's answer, or the connection error. */
  reply: Promise<HttpReply>;
}

/** Starts a request (headers sent at once) whose body the test writes piece by piece, stalls or cuts. */
export function openRequest(target: Target, method: string, headers: Record<string, string>): OpenRequest {
  const req = requestOf(target, method, headers);
  const reply = replyOf(req);
  reply.catch(() => undefined);
  req.flushHeaders();
  return {
    req,
    write: (chunk) => new Promise((resolve, reject) => req.write(chunk, (err) => (err ? reject(err) : resolve()))),
    cut: () => req.destroy(),
    reply,
  };
}
