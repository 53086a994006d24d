import type { Hono } from 'hono';
import { TusError, tusError } from '../errors.js';
import type { TusDeps } from '../tus/deps.js';
import { errorResponse } from '../tus/respond.js';
import type { Uploads } from '../tus/uploads.js';

export type UploadState = 'created' | 'uploading' | 'assembling' | 'finished' | 'expired';

/** JSON view of an upload for `GET /api/uploads/:id`. */
export interface UploadInfo {
  id: string;
  size: number | null;
  offset: number | null;
  metadata: Record<string, string | null>;
  state: UploadState;
  concat: { kind: 'partial' } | { kind: 'final'; parts: string[] } | null;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  expiresAt: string | null;
}

/** Mounts `GET /api/uploads/:id`. Reads never take the upload's lock, so they never disturb a PATCH. */
export function mountUploadApi(app: Hono, deps: TusDeps, uploads: Uploads): void {
  app.get('/api/uploads/:id', async (c) => {
    const id = c.req.param('id');
    try {
      let info: UploadInfo;
      try {
        const { record, offset } = await uploads.load(id, false);
        const state: UploadState = record.completedAt
          ? 'finished'
          : offset === undefined ? 'assembling' : offset === 0 ? 'created' : 'uploading';
        info = {
          id,
          size: record.size ?? null,
          offset: offset ?? null,
          metadata: record.metadata,
          state,
          concat: record.concat ? (record.concat.kind === 'final' ? { kind: 'final', parts: record.concat.parts } : { kind: 'partial' }) : null,
          createdAt: record.createdAt,
          updatedAt: record.updatedAt,
          completedAt: record.completedAt ?? null,
          expiresAt: record.completedAt ? null : (record.expiresAt ?? null),
        };
      } catch (err) {
        if (!(err instanceof TusError) || err.code !== 'UPLOAD_GONE') throw err;
        const record = await deps.records.get(id);
        if (!record) throw tusError('UPLOAD_NOT_FOUND');
        return c.json({ id, state: 'expired', expiredAt: record.expiredAt ?? record.expiresAt ?? null }, 410);
      }
      return c.json(info);
    } catch (err) {
      return errorResponse(err, deps.metrics, deps.logger);
    }
  });
}
