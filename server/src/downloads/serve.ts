import { tusError } from '../errors.js';
import { parseRange } from '../http/range.js';
import { USER_CONTENT_HEADERS } from '../http/user-content.js';
import type { ObjectTiers, Presigner, StorageClass } from '../tiers/types.js';
import { cacheControl, notModified, rangeStillValid } from './conditional.js';

/** What is needed to serve the bytes of one finished file or upload. */
export interface Download {
  /** Storage key of the bytes (the upload id whose bytes they are). */
  key: string;
  storageClass: StorageClass;
  size: number;
  /** Strong entity tag (see `strongEtag`). */
  etag: string;
  /** When the bytes were finished (sent as `Last-Modified`, used by a dated `If-Range`). */
  lastModified: Date;
  contentType: string;
  contentDisposition: string;
  /** Whether shared caches (a CDN) may keep the response. */
  shared: boolean;
}

/** The request's headers that matter for a download. */
export interface DownloadRequest {
  range?: string;
  ifNoneMatch?: string;
  ifRange?: string;
  /**
   * Set when the request came with a signed URL: when it expires. Shared caches may then keep the
   * response (even with auth on), but not beyond the signature's life.
   */
  signedUntil?: Date;
}

/** How downloads are served; built once in the context. */
export interface DownloadDeps {
  tiers: ObjectTiers;
  /** Present when downloads redirect to the store (`S3_PRESIGNED_DOWNLOADS=true`). */
  presigner?: Presigner;
  /** Life of a presigned URL, in seconds. */
  presignSeconds: number;
  /** `max-age` of a download, in seconds. */
  maxAgeSeconds: number;
  /** Whether authentication is on: downloads are then private unless a signed URL was used. */
  authOn: boolean;
  now: () => Date;
}

/**
 * Serves a finished, immutable object: `ETag`, `Last-Modified`, `Cache-Control: … immutable`
 * (`public` only where the file's policy allows a CDN and the request was not a private, authenticated
 * one), `If-None-Match` → 304, a single `Range` (honoured only while `If-Range` still names these bytes;
 * several ranges are answered with the whole body), and with a presigner a 302 to the store so the
 * bytes never pass through this node (conditional requests are still answered here, without a redirect).
 */
export async function serveDownload(deps: DownloadDeps, d: Download, req: DownloadRequest): Promise<Response> {
  const now = deps.now();
  const signedLeft = req.signedUntil ? Math.floor((req.signedUntil.getTime() - now.getTime()) / 1000) : undefined;
  const shared = d.shared && (!deps.authOn || signedLeft !== undefined);
  const maxAge = signedLeft !== undefined ? Math.max(0, Math.min(deps.maxAgeSeconds, signedLeft)) : deps.maxAgeSeconds;
  const validators: Record<string, string> = {
    ETag: d.etag,
    'Last-Modified': d.lastModified.toUTCString(),
    'Cache-Control': cacheControl({ shared, maxAgeSeconds: maxAge }),
  };
  // "A recipient MUST ignore If-Modified-Since if the request contains an If-None-Match header field":
  // only If-None-Match is evaluated (the entity tag is stronger than a date).
  if (notModified(req.ifNoneMatch, d.etag)) return new Response(null, { status: 304, headers: validators });
  const headers: Record<string, string> = {
    ...validators,
    'Content-Type': d.contentType,
    'Content-Disposition': d.contentDisposition,
    'Accept-Ranges': 'bytes',
    ...USER_CONTENT_HEADERS,
  };
  if (deps.presigner) {
    const url = await deps.presigner.presign(d.key, d.storageClass, {
      contentType: d.contentType,
      contentDisposition: d.contentDisposition,
      cacheControl: validators['Cache-Control'],
      expiresInSeconds: signedLeft !== undefined ? Math.max(1, Math.min(deps.presignSeconds, signedLeft)) : deps.presignSeconds,
    });
    // The redirect itself expires with its URL: nobody may keep it longer.
    return new Response(null, { status: 302, headers: { Location: url, 'Cache-Control': 'private, no-store', ETag: d.etag, 'Content-Length': '0' } });
  }
  const useRange = req.range !== undefined && rangeStillValid(req.ifRange, d.etag, d.lastModified);
  const range = useRange ? parseRange(req.range!, d.size) : undefined;
  if (range === 'unsatisfiable') {
    throw tusError('RANGE_NOT_SATISFIABLE', req.range, { 'Content-Range': `bytes */${d.size}` });
  }
  if (d.size === 0) return new Response(null, { status: 200, headers: { ...headers, 'Content-Length': '0' } });
  const stream = await deps.tiers.read(d.key, d.storageClass, range);
  const body = (ReadableStream as unknown as { from(it: AsyncIterable<Uint8Array>): ReadableStream }).from(stream as AsyncIterable<Uint8Array>);
  if (range) {
    headers['Content-Range'] = `bytes ${range.start}-${range.end}/${d.size}`;
    headers['Content-Length'] = String(range.end - range.start + 1);
    return new Response(body, { status: 206, headers });
  }
  headers['Content-Length'] = String(d.size);
  return new Response(body, { status: 200, headers });
}
