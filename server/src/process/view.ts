import { runOf, type ProcessingStatus } from '@tus-edge/processors';
import { z } from '../http/openapi.js';
import type { ProcessRequestRecord } from '../records/process-requests.js';

/** A request's state: the job states, and `superseded` / `unknown` for a kind a later run replaced twice or whose status is gone. */
export const ProcessStateSchema = z.enum(['queued', 'processing', 'done', 'failed', 'skipped']);
const KindStateSchema = z.enum(['queued', 'processing', 'done', 'failed', 'skipped', 'superseded', 'unknown']);

const KindRunSchema = z
  .object({
    state: KindStateSchema,
    attempts: z.number().int().optional(),
    progress: z.number().optional(),
    reason: z.string().optional(),
    code: z.string().optional(),
    result: z.record(z.string(), z.unknown()).optional().describe('the inline result (template and options used are recorded in it)'),
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    supersededBy: z.string().optional().describe('the later request that ran this kind again'),
  })
  .openapi('ProcessKindRun');

export const ProcessJobSchema = z
  .object({
    jobId: z.string(), fileId: z.string(), uploadId: z.string(), status: ProcessStateSchema, lane: z.enum(['high', 'normal']),
    kinds: z.record(z.string(), KindRunSchema), options: z.record(z.string(), z.unknown()), requestedAt: z.string(),
  })
  .openapi('ProcessJob');

type KindRun = z.infer<typeof KindRunSchema>;

/** One kind of the request, from the upload's status: the run's own job, the run a later request replaced, or neither. */
function kindRun(record: ProcessRequestRecord, status: ProcessingStatus | null, kind: string): KindRun {
  const job = status?.jobs[kind];
  if (!status || !job) return { state: 'unknown' };
  if (runOf(status, kind) === record.jobId) {
    const { state, attempts, progress, reason, code, result, startedAt, finishedAt } = job;
    return Object.fromEntries(Object.entries({ state, attempts, progress, reason, code, result, startedAt, finishedAt }).filter(([, v]) => v !== undefined)) as KindRun;
  }
  if (job.previous?.runId === record.jobId) {
    return { state: job.previous.state, ...(job.previous.finishedAt && { finishedAt: job.previous.finishedAt }), supersededBy: runOf(status, kind)! };
  }
  return { state: 'superseded' };
}

/**
 * The request as `GET /api/files/{id}/process/{jobId}` shows it. Aggregate: `queued`/`processing`
 * while a kind is; else `failed` if one failed; `skipped` if every kind was; else `done`.
 */
export function jobView(record: ProcessRequestRecord, status: ProcessingStatus | null): z.infer<typeof ProcessJobSchema> {
  const kinds = Object.fromEntries(record.kinds.map((k) => [k, kindRun(record, status, k)]));
  const states = Object.values(kinds).map((k) => k.state);
  const aggregate = states.includes('processing') ? 'processing' : states.includes('queued') ? 'queued'
    : states.includes('failed') ? 'failed' : states.every((s) => s === 'skipped') ? 'skipped' : 'done';
  return {
    jobId: record.jobId, fileId: record.fileId, uploadId: record.uploadId, status: aggregate, lane: record.lane,
    kinds, options: record.options, requestedAt: record.requestedAt,
  };
}
