import { createHash, randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import {
  KindOptionsSchema, LANES, PromptLibrary, REQUEST_KINDS, traceparentOf, uploadEventId,
  type ProcessingStatus, type UploadCompletedEvent, type UploadLocation,
} from '@tus-edge/processors';
import { documented, errors, json, jsonBody, route, z, type ApiApp } from '../http/openapi.js';
import { scopeOf } from '../api/files.js';
import type { CatalogueFile, OwnerScope } from '../catalogue/types.js';
import { laneOf } from '../config/process.js';
import type { AppContext } from '../context.js';
import { tusError } from '../errors.js';
import { errorResponse } from '../http/respond.js';
import type { ProcessRequestRecord } from '../records/process-requests.js';
import type { Uploads } from '../uploads/uploads.js';
import { jobView, ProcessJobSchema, ProcessStateSchema } from './view.js';

/** The body of `POST /api/files/{id}/process` (options per kind: processors' jobs/options.ts). */
export const ProcessBodySchema = z
  .object({
    kinds: z.array(z.enum(REQUEST_KINDS as [string, ...string[]])).min(1).optional()
      .describe('kinds to run again; default the kinds named in options, else every kind'),
    options: KindOptionsSchema.optional().describe('per kind; an option left out keeps the configured default'),
    priority: z.enum(LANES).optional().describe("lane; default the owner's plan's (PROCESS_PLAN_PRIORITY), at most PROCESS_MAX_PRIORITY"),
  })
  .strict()
  .openapi('ProcessRequest');

const AcceptedSchema = z.object({ jobId: z.string(), status: ProcessStateSchema }).openapi('ProcessAccepted');
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** JSON with sorted keys: the same request hashes the same whatever its key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Processing on request (issue 15):
 * - `POST /api/files/{id}/process` `{ kinds?, options?, priority? }` → `202 { jobId, status }`: the
 *   kinds run again on the file's bytes (where the catalogue says they are: cold, or another upload's
 *   object), with the options, on the lane of the owner's plan or the capped `priority`. The request is
 *   claimed in the upload's status (409 `PROCESS_BUSY` while one of its kinds is queued or running),
 *   then published like an upload's event, so the same durable queue, leases, retries, dead letters,
 *   status stream and outcomes carry it. An `Idempotency-Key` header makes it idempotent for 24 hours:
 *   the same key and request answer the same job; the same key with another request is 409.
 * - `GET /api/files/{id}/process/{jobId}`: the job's state per kind.
 * Owner-scoped like `/api/files/{id}`: another owner's file is 404.
 */
export function mountProcessApi(app: ApiApp, deps: AppContext, uploads: Uploads): void {
  const { catalogue, config } = deps;
  const fail = (err: unknown) => errorResponse(err, deps.metrics, deps.logger);
  let library: Promise<PromptLibrary> | undefined;
  // In embedded mode only this process's kinds run: a request for another would wait forever.
  const runnable: readonly string[] = config.processors.inProcess ? config.processors.runtime.kinds : REQUEST_KINDS;

  const fileOf = async (c: Context): Promise<{ scope: OwnerScope; file: CatalogueFile }> => {
    const scope = scopeOf(c.get('identity'));
    const file = await catalogue.get(scope, c.req.param('id')!);
    if (!file) throw tusError('FILE_NOT_FOUND');
    return { scope, file };
  };

  /** The kinds and options of a valid body; 400 with what is wrong otherwise. */
  const requestOf = async (body: z.infer<typeof ProcessBodySchema>) => {
    const options = (body.options ?? {}) as Record<string, unknown>;
    const named = Object.keys(options);
    const kinds = [...new Set(body.kinds ?? (named.length > 0 ? named : runnable))];
    const invalid = (detail: string) => tusError('INVALID_REQUEST_BODY', detail);
    for (const k of named) if (!kinds.includes(k)) throw invalid(`options.${k}: ${k} is not in kinds`);
    for (const k of kinds) if (!runnable.includes(k)) throw invalid(`kinds: ${k} does not run here (PROCESSOR_KINDS)`);
    const { template, model } = (options.generate ?? {}) as { template?: string; model?: string };
    if (model && !config.processRequests.allowedModels.includes(model)) throw invalid(`options.generate.model: "${model}" is not in PROCESS_ALLOWED_MODELS`);
    if (template && !(await (library ??= PromptLibrary.load())).find(template, 'study')) {
      throw invalid(`options.generate.template: no study template "${template}" in processors/prompts/`);
    }
    return { kinds, options };
  };

  /** Where the processors read the file's bytes: its object, in the class the catalogue records. */
  const locationOf = async (file: CatalogueFile): Promise<UploadLocation> => {
    const located = await catalogue.locate(file.uploadId);
    return located ? deps.tiers.locationOf(located.object.location, located.object.storageClass) : deps.storage.location(file.uploadId);
  };

  const publish = async (record: ProcessRequestRecord, file: CatalogueFile): Promise<void> => {
    const event: UploadCompletedEvent = {
      version: 1, type: 'uploads.completed', eventId: record.jobId, uploadId: record.uploadId, size: file.size,
      metadata: file.metadata, location: await locationOf(file), completedAt: file.finishedAt, node: config.nodeName,
      ...(file.sha256 && { sha256: file.sha256 }),
      request: { kinds: record.kinds, lane: record.lane, options: record.options, requestedAt: record.requestedAt },
      traceparent: traceparentOf(),
    };
    await deps.events.publish(event);
  };

  const stateOf = async (record: ProcessRequestRecord) => jobView(record, await deps.status.get(record.uploadId)).status;

  const post = route({
    method: 'post', path: '/api/files/{id}/process', tags: ['processing'], summary: 'Run processing again, with other options',
    request: {
      params: z.object({ id: z.string() }),
      headers: z.object({ 'idempotency-key': z.string().optional().describe('the same key and request within 24 h answer the same job') }),
      body: { content: { 'application/json': { schema: ProcessBodySchema } }, required: false },
    },
    responses: {
      202: json(AcceptedSchema, 'accepted: the job is queued (or, for a repeated key, the job it named)'),
      ...errors('INVALID_REQUEST_BODY', 'INVALID_IDEMPOTENCY_KEY', 'FILE_NOT_FOUND', 'TOKEN_SCOPE', 'AUTH_REQUIRED', 'PROCESS_BUSY', 'IDEMPOTENCY_KEY_REUSED', 'PROCESSING_UNAVAILABLE'),
    },
  });
  documented(app, post, async (c) => {
    try {
      const { scope, file } = await fileOf(c);
      const body = await jsonBody(c, ProcessBodySchema, config.security.requestTimeoutMs);
      const { kinds, options } = await requestOf(body);
      const identity = c.get('identity');
      const lane = laneOf(config.processRequests, identity?.kind === 'user' ? identity.plan : undefined, body.priority);
      const key = c.req.header('idempotency-key');
      if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) throw tusError('INVALID_IDEMPOTENCY_KEY');
      let record: ProcessRequestRecord = {
        jobId: `process-${randomUUID()}`, fileId: file.id, uploadId: file.uploadId, tenant: scope.tenant, owner: scope.owner,
        kinds, options, lane, requestedAt: new Date().toISOString(),
        requestHash: sha256(canonical({ fileId: file.id, kinds, options, priority: body.priority ?? null })),
      };
      const scopedKey = key === undefined ? undefined : sha256(`${scope.tenant}\u0000${scope.owner}\u0000${key}`);
      const earlier = scopedKey ? await deps.processRequests.bind(scopedKey, record) : null;
      if (earlier && earlier.requestHash !== record.requestHash) throw tusError('IDEMPOTENCY_KEY_REUSED');
      // The job record is saved once its kinds are claimed: a bound key without it is a request cut short, carried on here.
      if (earlier && (await deps.processRequests.get(earlier.jobId))) {
        const status = await deps.status.get(earlier.uploadId);
        // Published again while nothing has started: the first answer may have come before the publish did (harmless: deduplicated by event id).
        if (earlier.kinds.every((k) => status?.jobs[k]?.runId === earlier.jobId && status.jobs[k].state === 'queued' && status.jobs[k].attempts === 0)) {
          await publish(earlier, file).catch((err) => deps.logger.warn('processing request republish failed', { jobId: earlier.jobId, err: (err as Error).message }));
        }
        return c.json({ jobId: earlier.jobId, status: await stateOf(earlier) }, 202, { 'Idempotent-Replayed': 'true' });
      }
      if (earlier) record = earlier;
      try {
        // Claiming again for the same run changes nothing.
        const busy = await deps.status.claim({ uploadId: record.uploadId, uploadEventId: uploadEventId(record.uploadId), runId: record.jobId, kinds: record.kinds, lane: record.lane });
        if (busy.length > 0) throw tusError('PROCESS_BUSY', `${busy.join(', ')} still queued or running`);
        await deps.processRequests.save(record);
      } catch (err) {
        if (scopedKey) await deps.processRequests.unbind(scopedKey).catch(() => undefined);
        throw err;
      }
      try {
        await publish(record, file);
      } catch (err) {
        // Nothing will run it: the claim ends failed so the kinds are free again, and the key names nothing.
        deps.logger.error('processing request not queued', { jobId: record.jobId, err: (err as Error).message });
        for (const kind of record.kinds) {
          await deps.status.update({ uploadId: record.uploadId, eventId: record.jobId, kind, request: true, patch: { state: 'failed', code: 'PROCESSING_UNAVAILABLE', reason: 'the request could not be queued', finishedAt: new Date().toISOString() } }).catch(() => undefined);
        }
        if (scopedKey) await deps.processRequests.unbind(scopedKey).catch(() => undefined);
        throw tusError('PROCESSING_UNAVAILABLE');
      }
      // The file's processing summary in the catalogue follows the new run.
      void uploads.content.follow(record.uploadId);
      deps.logger.info('processing requested', { jobId: record.jobId, fileId: file.id, uploadId: record.uploadId, kinds: record.kinds, lane: record.lane });
      return c.json({ jobId: record.jobId, status: 'queued' as const }, 202, { Location: `/api/files/${file.id}/process/${record.jobId}` });
    } catch (err) {
      return fail(err);
    }
  });

  const get = route({
    method: 'get', path: '/api/files/{id}/process/{jobId}', tags: ['processing'], summary: 'State of a processing request',
    request: { params: z.object({ id: z.string(), jobId: z.string() }) },
    responses: { 200: json(ProcessJobSchema, 'the job, per kind'), ...errors('FILE_NOT_FOUND', 'PROCESS_JOB_NOT_FOUND', 'TOKEN_SCOPE', 'AUTH_REQUIRED') },
  });
  documented(app, get, async (c) => {
    try {
      const { file } = await fileOf(c);
      const record = await deps.processRequests.get(c.req.param('jobId')!);
      if (!record || record.fileId !== file.id) throw tusError('PROCESS_JOB_NOT_FOUND');
      const status: ProcessingStatus | null = await deps.status.get(record.uploadId);
      return c.json(jobView(record, status));
    } catch (err) {
      return fail(err);
    }
  });
}
