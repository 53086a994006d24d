import { performance } from 'node:perf_hooks';
import { trace } from '@opentelemetry/api';
import { tusError } from '../../errors.js';
import type { AppContext } from '../../context.js';
import { parseUploadLength, parseUploadOffset } from '../protocol.js';
import { tusResponse } from '../respond.js';
import type { TusRequest } from '../request.js';
import type { Uploads } from '../../uploads/uploads.js';
import { appendBody, appendHeaders, readBodyHeaders, stoppedError, takeBody } from './append.js';

/**
 * PATCH: append bytes at Upload-Offset. Headers are validated before the lock is taken, so bad input
 * costs no I/O. "The Server SHOULD accept PATCH requests against any upload URL and apply the bytes
 * contained in the message at the given offset specified by the Upload-Offset header."
 */
export async function handlePatch(deps: AppContext, uploads: Uploads, req: TusRequest, id: string): Promise<Response> {
  const body = { ...readBodyHeaders(req), stream: takeBody(deps, req) };
  const offset = parseUploadOffset(req.header('upload-offset'));
  const lengthHeader = req.header('upload-length');
  const declaredLength = lengthHeader !== undefined ? parseUploadLength(lengthHeader) : undefined;

  const stop = deps.lifecycle.startUpload();
  const started = performance.now();
  // The request's span (see http/tracing.ts): what an operator needs to follow one PATCH.
  const span = trace.getActiveSpan();
  span?.setAttributes({ 'tus.upload_id': id, 'tus.offset_before': offset });
  try {
    const result = await uploads.withLock(id, req.signal, stop.release, async () => {
      span?.setAttribute('tus.lock_wait_ms', Math.round(performance.now() - started));
      const { record, offset: current, basis } = await uploads.load(id, true);
      // "The Server MUST respond with a 403 Forbidden status to PATCH requests against a final upload URL."
      if (record.concat?.kind === 'final') throw tusError('PATCH_FINAL_FORBIDDEN');
      // "If the offsets do not match, the Server MUST respond with the 409 Conflict status without
      // modifying the upload resource." The current offset is included so clients can resume.
      if (current !== offset) {
        throw tusError('OFFSET_MISMATCH', `expected ${current}, got ${offset}`, { 'Upload-Offset': String(current) });
      }
      if (declaredLength !== undefined) {
        if (record.size !== undefined && record.size !== declaredLength) throw tusError('LENGTH_ALREADY_SET');
        if (declaredLength < offset) throw tusError('LENGTH_BELOW_OFFSET');
        if (declaredLength > deps.config.maxSize) throw tusError('MAX_SIZE_EXCEEDED');
      }
      const appended = await appendBody(deps, uploads, req, record, { offset, basis }, body, stop, declaredLength);
      return { record, appended };
    });
    deps.metrics.patchDuration.observe((performance.now() - started) / 1000);
    span?.setAttributes({ 'tus.offset_after': result.appended.offset, 'tus.bytes': result.appended.offset - offset, 'tus.finished': result.appended.finished });
    if (result.appended.stopped) throw stoppedError(result.appended);
    // "The Server MUST acknowledge successful PATCH requests with the 204 No Content status. It MUST
    // include the Upload-Offset header containing the new offset."
    return tusResponse(204, appendHeaders(result.record, result.appended));
  } finally {
    stop.end();
  }
}
