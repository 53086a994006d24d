import { completeHeader, type DraftCall, draftResponse, limitHeaders } from './common.js';

/**
 * Offset retrieval. "A successful response to a `HEAD` request against an upload resource MUST
 * include the offset in the `Upload-Offset` header field, MUST include the completeness state in the
 * `Upload-Complete` header field, MUST include the length in the `Upload-Length` header field, unless
 * the client has not supplied one, ... MUST indicate the limits in the `Upload-Limit` header field,
 * and SHOULD include the `Cache-Control` header field with the value `no-store`." Taken under the
 * upload's lock, so a write still running is stopped first: "the server MUST NOT send outdated
 * information in responses when retrieving the offset".
 */
export async function retrieveOffset(call: DraftCall, id: string): Promise<Response> {
  const { deps, uploads, req, interop } = call;
  const { record, offset } = await uploads.withLock(id, req.signal, () => undefined, () => uploads.load(id, true));
  const headers: Record<string, string> = {
    // A final upload of tus concatenation has no offset until it is assembled: nothing of it is stored.
    'Upload-Offset': String(offset ?? 0),
    ...completeHeader(interop, record.completedAt !== undefined),
    ...limitHeaders(deps, interop, record),
    'Cache-Control': 'no-store',
  };
  if (interop.lengthField && record.size !== undefined) headers['Upload-Length'] = String(record.size);
  return draftResponse(204, headers);
}
