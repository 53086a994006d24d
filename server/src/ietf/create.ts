import { TusError, tusError } from '../errors.js';
import { locationOf } from '../tus/handlers/post.js';
import { parseMetadata } from '../tus/protocol.js';
import {
  appendDraft, carriesContent, completeHeader, contentLengthOf, type DraftCall, draftResponse, limitHeaders, requireComplete,
  takeDraftBody,
} from './common.js';
import { dispositionFilename, parseInteger } from './fields.js';
import { ProblemError } from './problem.js';
import { PARTIAL_UPLOAD_TYPE } from './versions.js';

/** Media types that label upload framing, not the representation. */
const FRAMING_TYPES = new Set([PARTIAL_UPLOAD_TYPE, 'application/offset+octet-stream']);

/**
 * Upload creation: a POST with `Upload-Complete` (`Upload-Incomplete` for interop 3). The upload is
 * created before the content is read and announced at once in a 104 with `Location`, so a client
 * cut off mid-body can resume. "If the `Upload-Complete` header field is set to false ... the server
 * MUST include the `Location` response header field pointing to the upload resource and MUST include
 * the `Upload-Limit` header field with the corresponding limits if existing. Servers are RECOMMENDED
 * to use the `201 (Created)` status code."
 */
export async function createDraft(call: DraftCall): Promise<Response> {
  const { deps, uploads, req, interop, interim } = call;
  const { config } = deps;
  const complete = requireComplete(req, interop);
  // "The server MUST record the length according to {{upload-length}} if the `Upload-Length` or
  // `Upload-Complete: ?1` header fields are included in the request."
  const contentLength = contentLengthOf(req);
  let size = parseInteger(req.header('upload-length'));
  if (complete && contentLength !== undefined) {
    // "If indicators (1) and (2) are both present in the same request, their indicated lengths MUST match."
    if (size !== undefined && size !== contentLength) {
      throw new ProblemError('INCONSISTENT_LENGTH', `Upload-Length ${size}, content ${contentLength} bytes`, {});
    }
    size = contentLength;
  }
  if (size !== undefined && size > config.maxSize) {
    throw tusError('MAX_SIZE_EXCEEDED', `${size} > ${config.maxSize}`, limitHeaders(deps, interop));
  }
  // Representation metadata: tus-js-client's Upload-Metadata, and the draft's Content-Type and
  // Content-Disposition ("metadata MUST be validated and/or sanitized").
  const metadataHeader = req.header('upload-metadata');
  const metadata = parseMetadata(metadataHeader, config.maxMetadataBytes);
  const filename = dispositionFilename(req.header('content-disposition'));
  if (filename && metadata.filename === undefined) metadata.filename = filename;
  const type = req.header('content-type')?.split(';')[0].trim().toLowerCase();
  const contentType = type && !FRAMING_TYPES.has(type) && /^[a-z0-9][\w.+-]*\/[a-z0-9][\w.+-]*$/.test(type) ? type : undefined;
  if (contentType && metadata.filetype === undefined) metadata.filetype = contentType;
  const body = carriesContent(req) ? takeDraftBody(call) : undefined;

  const access = await deps.security.admitCreation(req.identity, size, [], config.maxSize);
  const record = await uploads.create({ size, metadata, metadataHeader: metadataHeader?.trim() || undefined, contentType, access });
  const location = locationOf(deps, req, record.id);
  // "the server SHOULD announce the upload resource by sending an interim response with the `104
  // (Upload Resumption Supported)` status code ... When sent, it MUST include `Location` header field
  // pointing to the upload resource and MUST include the `Upload-Limit` header field".
  interim?.send({ Location: location, ...limitHeaders(deps, interop, record) });

  let offset = 0;
  let done = false;
  if (!body) {
    // Empty content: with ?1 an empty representation, with ?0 only the URL is wanted.
    if (complete) {
      if (size !== undefined && size !== 0) {
        throw new ProblemError('INCONSISTENT_LENGTH', `Upload-Length ${size}, but the upload completes empty`, { Location: location });
      }
      await uploads.completeAt(record, 0);
      done = true;
    }
  } else {
    const stop = deps.lifecycle.startUpload();
    let removed = false;
    try {
      const appended = await uploads.withLock(record.id, req.signal, stop.release, async () => {
        try {
          return await appendDraft(call, record, { offset: 0 }, body, complete, size, stop);
        } catch (err) {
          // Refused content (type, length) leaves nothing; an interruption or a storage failure keeps
          // the upload, whose URL the client already has from the 104.
          if (err instanceof TusError && err.status < 500 && err.code !== 'UPLOAD_INTERRUPTED') {
            await uploads.remove(record);
            removed = true;
          }
          throw err;
        }
      });
      offset = appended.offset;
      done = appended.complete;
    } catch (err) {
      // "all interim and final response messages for the same request MUST contain an identical
      // `Location` value": an error answer too, while the upload exists.
      if (err instanceof TusError && !removed) Object.assign(err.headers, { Location: location });
      throw err;
    } finally {
      stop.end();
    }
  }
  const headers: Record<string, string> = {
    Location: location,
    'Upload-Offset': String(offset),
    ...completeHeader(interop, done),
    ...limitHeaders(deps, interop, record),
  };
  if (interop.lengthField && record.size !== undefined) headers['Upload-Length'] = String(record.size);
  // A completed upload is answered as the resource would answer a whole upload: 200 (nothing else
  // processes it in the request); an incomplete one with 201 Created.
  return draftResponse(done ? 200 : 201, headers);
}
