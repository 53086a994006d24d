import { draftResponse, type DraftCall } from './common.js';

/**
 * Upload cancellation. "Upon receiving a `DELETE` request, the server SHOULD deactivate the upload
 * resource." "The server SHOULD terminate any in-flight requests to the upload resource before
 * sending the response": taking the lock asks a running write to stop (it keeps what it wrote until
 * the removal). The same termination as tus, events and quotas included.
 */
export async function cancelDraft(call: DraftCall, id: string): Promise<Response> {
  const { deps, uploads, req } = call;
  await uploads.withLock(id, req.signal, () => undefined, async () => {
    const { record } = await uploads.load(id, true);
    await uploads.remove(record);
  });
  deps.metrics.uploadsTerminated.inc();
  deps.logger.info('upload cancelled (ietf draft)', { uploadId: id });
  return draftResponse(204);
}
