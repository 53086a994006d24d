import { Metadata } from '@tus/server';
import type { UploadRecord } from '../../records/types.js';
import { httpDate } from '../protocol.js';
import { tusResponse } from '../respond.js';
import type { Uploads } from '../../uploads/uploads.js';

/**
 * HEAD: where to resume. Takes the upload's lock, so a stalled PATCH of a client that has since
 * reconnected is asked to stop and write what it received before the offset is read.
 */
export async function handleHead(uploads: Uploads, id: string, signal: AbortSignal): Promise<Response> {
  const { record, offset } = await uploads.withLock(id, signal, () => undefined, () => uploads.load(id, true));
  // "The Server MUST prevent the client and/or proxies from caching the response by adding the
  // Cache-Control: no-store header to the response."
  const headers: Record<string, string> = { 'Cache-Control': 'no-store', ...describe(record, await uploads.lengthOf(record)) };
  // "If an upload contains additional metadata, responses to HEAD requests MUST include the
  // Upload-Metadata header and its value as specified by the Client during the creation."
  // "The response to a HEAD request for a final upload SHOULD NOT contain the Upload-Offset header
  // unless the concatenation has been successfully finished."
  if (offset !== undefined) headers['Upload-Offset'] = String(offset);
  return tusResponse(200, headers);
}

/**
 * Length, metadata, concatenation and expiry headers of an upload, shared by HEAD and POST. `length`
 * is the upload's length if known (for a final upload: "The Upload-Length header MUST be included if
 * the length of the final resource can be calculated at the time of the request").
 */
export function describe(record: UploadRecord, length: number | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (length !== undefined) headers['Upload-Length'] = String(length);
  // "As long as the length of the upload is not known, the Server MUST set Upload-Defer-Length: 1 in
  // all responses to HEAD requests." (Not for a final upload, whose length follows from its parts.)
  else if (record.concat?.kind !== 'final') headers['Upload-Defer-Length'] = '1';
  if (Object.keys(record.metadata).length > 0) {
    headers['Upload-Metadata'] = record.metadataHeader ?? Metadata.stringify(record.metadata);
  }
  if (record.concat?.kind === 'partial') headers['Upload-Concat'] = 'partial';
  // "Response to HEAD request against partial or final upload MUST include the Upload-Concat header
  // and its value as received in the upload creation request."
  if (record.concat?.kind === 'final') headers['Upload-Concat'] = record.concat.header;
  if (record.expiresAt && !record.completedAt) headers['Upload-Expires'] = httpDate(record.expiresAt);
  return headers;
}
