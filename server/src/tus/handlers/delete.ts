import type { AppContext } from '../../context.js';
import { tusResponse } from '../respond.js';
import type { Uploads } from '../../uploads/uploads.js';

/**
 * Termination: "When receiving a DELETE request for an existing upload the Server SHOULD free
 * associated resources and MUST respond with the 204 No Content status confirming that the upload
 * was terminated." A PATCH still running on the upload is asked to stop first.
 */
export async function handleDelete(deps: AppContext, uploads: Uploads, id: string, signal: AbortSignal): Promise<Response> {
  await uploads.withLock(id, signal, () => undefined, async () => {
    const { record } = await uploads.load(id, true);
    await uploads.remove(record);
  });
  deps.metrics.uploadsTerminated.inc();
  deps.logger.info('upload terminated', { uploadId: id });
  return tusResponse(204);
}
