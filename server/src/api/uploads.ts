import { documented, errors, json, route, z, type ApiApp } from '../http/openapi.js';
import { UploadExpiredSchema, UploadIdParams, UploadInfoSchema } from './schemas/uploads.js';
import { streamSSE } from 'hono/streaming';
import type { ProcessingStatus } from '@tus-edge/processors';
import { findRecord } from '../catalogue/records.js';
import { TusError, tusError } from '../errors.js';
import type { AppContext } from '../context.js';
import { errorResponse } from '../http/respond.js';
import type { Uploads } from '../uploads/uploads.js';

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
  /** What the processors did with it (queued, processing, done, failed with reason, skipped), with results; null before any. */
  processing: ProcessingStatus | null;
}

/** Heartbeat comment on idle event streams, so proxies keep them open. */
const SSE_HEARTBEAT_MS = 15_000;

/** `GET /api/uploads/{id}` */
const getUpload = route({
  method: 'get', path: '/api/uploads/{id}', tags: ['uploads'], summary: 'An upload through its life',
  description: "Size, offset, metadata, state and what the processors did with it. Reads never take the upload's lock, so they never disturb a PATCH.",
  request: { params: UploadIdParams },
  responses: {
    200: json(UploadInfoSchema, 'the upload'),
    410: json(UploadExpiredSchema, 'the upload expired (UPLOAD_GONE)'),
    ...errors('UPLOAD_NOT_FOUND', 'COORDINATION_UNAVAILABLE'),
  },
});

/** `GET /api/uploads/{id}/events` */
const uploadEvents = route({
  method: 'get', path: '/api/uploads/{id}/events', tags: ['uploads'], summary: "Server-Sent Events of the upload's processing status",
  description: 'The current status first (event `status`, data: a ProcessingStatus as JSON), then every change; the stream ends after a terminal state (done, failed, skipped). A comment line every 15 s keeps proxies from closing an idle stream.',
  request: { params: UploadIdParams },
  responses: {
    200: { description: 'the event stream', content: { 'text/event-stream': { schema: z.string().describe('events `status` whose data is a ProcessingStatus as JSON') } } },
    ...errors('UPLOAD_NOT_FOUND'),
  },
});

/** Mounts `GET /api/uploads/:id` and its event stream. Reads never take the upload's lock, so they never disturb a PATCH. */
export function mountUploadApi(app: ApiApp, deps: AppContext, uploads: Uploads): void {
  documented(app, getUpload, async (c) => {
    const id = c.req.param('id')!;
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
          processing: await deps.status.get(id),
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

  /**
   * `GET /api/uploads/:id/events`: Server-Sent Events of the upload's processing status. The current
   * status comes first (event `status`), then every change; the stream ends after a terminal state.
   */
  documented(app, uploadEvents, async (c) => {
    const id = c.req.param('id')!;
    if (!(await findRecord(deps.records, deps.catalogue, id))) return errorResponse(tusError('UPLOAD_NOT_FOUND'), deps.metrics, deps.logger);
    return streamSSE(c, async (stream) => {
      let seq = 0;
      let last = '';
      let wake: () => void = () => undefined;
      const pending: ProcessingStatus[] = [];
      const unsubscribe = await deps.status.subscribe(id, (status) => {
        pending.push(status);
        wake();
      });
      try {
        const current = await deps.status.get(id);
        if (current) pending.unshift(current);
        while (!stream.aborted && !stream.closed) {
          const status = pending.shift();
          if (!status) {
            await new Promise<void>((resolve) => {
              wake = resolve;
              setTimeout(resolve, SSE_HEARTBEAT_MS).unref();
              stream.onAbort(resolve);
            });
            if (pending.length === 0 && !stream.aborted) await stream.write(': heartbeat\n\n');
            continue;
          }
          const data = JSON.stringify(status);
          if (data === last) continue;
          last = data;
          await stream.writeSSE({ event: 'status', id: String(++seq), data });
          if (FINAL_STATES.has(status.state)) break;
        }
      } finally {
        await unsubscribe();
      }
    });
  });
}

/** Aggregate states after which nothing more happens to an upload's processing. */
const FINAL_STATES = new Set<ProcessingStatus['state']>(['done', 'failed', 'skipped']);
