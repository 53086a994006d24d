/**
 * A raw node:http client for the draft suite: it sees `104 (Upload Resumption Supported)` interim
 * responses (fetch drops them), sends bodies in timed pieces, and can cut the connection.
 */
import http from 'node:http';
import { expect } from 'vitest';

export type Headers = Record<string, string>;

export interface Interim {
  status: number;
  headers: http.IncomingHttpHeaders;
}

export interface DraftResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** 1xx responses before the final one, in order. */
  interim: Interim[];
}

export interface DraftRequest {
  method: string;
  url: string;
  headers?: Headers;
  /** Body pieces; without a Content-Length header the body is sent chunked. */
  chunks?: (string | Buffer)[];
  /** Pause between pieces. */
  pauseMs?: number;
  /** Destroy the connection after the pieces instead of ending the body (an interrupted upload). */
  cut?: boolean;
  /** Wait for the first 104 before sending any piece. */
  awaitInterim?: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One request; resolves with the final response, or (for `cut`) with the interim responses seen. */
export function draftRequest(r: DraftRequest): Promise<DraftResponse> {
  return new Promise((resolve, reject) => {
    const interim: Interim[] = [];
    const req = http.request(r.url, { method: r.method, headers: r.headers ?? {}, agent: false });
    let firstInterim: () => void = () => {};
    const interimSeen = new Promise<void>((res) => (firstInterim = res));
    req.on('information', (info) => {
      interim.push({ status: info.statusCode, headers: info.headers });
      firstInterim();
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, interim }));
      res.on('error', reject);
    });
    req.on('error', (err) => (r.cut ? resolve({ status: 0, headers: {}, body: '', interim }) : reject(err)));
    void (async () => {
      req.flushHeaders();
      if (r.awaitInterim) await interimSeen;
      const chunks = r.chunks ?? [];
      for (let i = 0; i < chunks.length; i++) {
        req.write(chunks[i]);
        if (r.pauseMs && i < chunks.length - 1) await sleep(r.pauseMs);
      }
      if (r.cut) {
        await sleep(300);
        req.destroy();
        setTimeout(() => resolve({ status: 0, headers: {}, body: '', interim }), 50);
      } else req.end();
    })();
  });
}

/** How one interop version writes its requests and reads its answers. */
export interface Dialect {
  version: number;
  /** Request headers declaring completeness. */
  complete(done: boolean): Headers;
  /** Completeness read from a response; undefined when the field is missing. */
  readComplete(headers: http.IncomingHttpHeaders): boolean | undefined;
  /** The Content-Type of an append. */
  appendType: Headers;
}

export function dialect(version: number): Dialect {
  const base = { 'Upload-Draft-Interop-Version': String(version) };
  return {
    version,
    complete: (done) =>
      version === 3 ? { ...base, ...(done ? {} : { 'Upload-Incomplete': '?1' }) } : { ...base, 'Upload-Complete': done ? '?1' : '?0' },
    readComplete: (headers) => {
      const value = version === 3 ? headers['upload-incomplete'] : headers['upload-complete'];
      if (value === undefined) return undefined;
      const b = value === '?1';
      return version === 3 ? !b : b;
    },
    appendType: version >= 6 ? { 'Content-Type': 'application/partial-upload' } : {},
  };
}

/** Asserts a problem document of `type` (RFC 9457) and returns its members. */
export function expectProblem(res: DraftResponse, status: number, type: string): Record<string, unknown> {
  expect(res.status, res.body).toBe(status);
  expect(res.headers['content-type']).toBe('application/problem+json');
  const doc = JSON.parse(res.body) as Record<string, unknown>;
  expect(doc.type).toBe(`https://iana.org/assignments/http-problem-types#${type}`);
  expect(typeof doc.title).toBe('string');
  return doc;
}
