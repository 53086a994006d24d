import { trace } from '@opentelemetry/api';
import { tusError } from '../errors.js';
import {
  appendDraft, completeHeader, contentLengthOf, type DraftCall, draftResponse, limitHeaders, requireComplete, takeDraftBody,
} from './common.js';
import { parseInteger } from './fields.js';
import { ProblemError } from './problem.js';
import { PARTIAL_UPLOAD_TYPE } from './versions.js';

/**
 * Upload append: "A client can continue the upload and append representation data by sending a
 * `PATCH` request with the `application/partial-upload` media type". Headers are checked before the
 * lock; the offset and the lengths under it. A request for an upload another request is writing asks
 * that one to stop first (the draft's RECOMMENDED handling of concurrency).
 */
export async function appendToDraft(call: DraftCall, id: string): Promise<Response> {
  const { deps, uploads, req, interop } = call;
  if (interop.partialUploadType && req.header('content-type')?.split(';')[0].trim().toLowerCase() !== PARTIAL_UPLOAD_TYPE) {
    throw tusError('PARTIAL_UPLOAD_TYPE_REQUIRED');
  }
  // "The client MUST indicate the offset of the request content inside the representation data by
  // including the `Upload-Offset` header field." "The request MUST include the `Upload-Complete` header field."
  const offset = parseInteger(req.header('upload-offset'));
  if (offset === undefined) throw tusError('MISSING_OFFSET');
  const complete = requireComplete(req, interop);
  const contentLength = contentLengthOf(req);
  const chunked = req.header('transfer-encoding') !== undefined;
  let declared = parseInteger(req.header('upload-length'));
  if (complete && contentLength !== undefined && !chunked) {
    // The length is "the sum of the current offset and the `Content-Length` header field value".
    if (declared !== undefined && declared !== offset + contentLength) {
      throw new ProblemError('INCONSISTENT_LENGTH', `Upload-Length ${declared}, content ends at ${offset + contentLength}`, {});
    }
    declared = offset + contentLength;
  }
  const body = takeDraftBody(call);
  const span = trace.getActiveSpan();
  span?.setAttributes({ 'tus.upload_id': id, 'tus.offset_before': offset, 'tus.protocol': `ietf-${interop.version}` });

  const stop = deps.lifecycle.startUpload();
  try {
    const result = await uploads.withLock(id, req.signal, stop.release, async () => {
      const { record, offset: current, basis } = await uploads.load(id, true);
      if (record.concat?.kind === 'final') throw tusError('PATCH_FINAL_FORBIDDEN');
      if (record.completedAt) {
        // An upload that reached its declared length is complete here (see the README's deviations);
        // the client's own completing empty append at that offset is then answered as done.
        if (complete && contentLength === 0 && offset === current) return { record, offset: current, complete: true };
        // "If the upload is already complete, the server MUST NOT modify the upload resource and MUST
        // reject the request." A non-empty append "MUST [be treated] as an inconsistent length failure".
        if (contentLength !== 0) throw new ProblemError('INCONSISTENT_LENGTH', 'the upload is already complete', {});
        throw new ProblemError('UPLOAD_COMPLETED', undefined, {});
      }
      // "If the `Upload-Offset` request header field value does not match the current offset, the
      // server MUST reject the request with a `409 (Conflict)` status code. The response MUST include
      // the correct offset in the `Upload-Offset` header field."
      if (current !== offset) {
        throw new ProblemError('OFFSET_MISMATCH', `expected ${current}, got ${offset}`, { 'Upload-Offset': String(current) }, {
          'expected-offset': current!, 'provided-offset': offset,
        });
      }
      // "If multiple requests include indicators, their indicated values MUST match."
      if (declared !== undefined) {
        if (record.size !== undefined && record.size !== declared) {
          throw new ProblemError('INCONSISTENT_LENGTH', `the upload is ${record.size} bytes, this request says ${declared}`, {});
        }
        if (declared < offset) throw new ProblemError('INCONSISTENT_LENGTH', `length ${declared} is below the offset ${offset}`, {});
        if (declared > (record.maxSize ?? deps.config.maxSize)) {
          throw tusError('MAX_SIZE_EXCEEDED', `${declared} bytes`, limitHeaders(deps, interop, record));
        }
      }
      const appended = await appendDraft(call, record, { offset, basis }, body, complete, declared, stop);
      return { record, ...appended };
    });
    span?.setAttributes({ 'tus.offset_after': result.offset, 'tus.finished': result.complete });
    const headers: Record<string, string> = { 'Upload-Offset': String(result.offset), ...completeHeader(interop, result.complete) };
    if (interop.lengthField && result.record.size !== undefined) headers['Upload-Length'] = String(result.record.size);
    // "If the request content was fully processed, the upload is marked as complete and the server
    // SHOULD generate the response that matches what the resource ... would have generated": 200 here.
    // "the server acknowledges the appended data by sending a `2xx (Successful)` response with the
    // `Upload-Complete` header field set to false."
    return result.complete ? draftResponse(200, headers) : draftResponse(204, { ...headers, ...limitHeaders(deps, interop, result.record) });
  } finally {
    stop.end();
  }
}
