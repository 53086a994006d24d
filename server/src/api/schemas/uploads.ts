/**
 * Schemas of the upload API (`/api/uploads/{id}`, its event stream and its results): what
 * `/api/openapi.json` documents and what the API tests check real responses against.
 */
import { z } from '../../http/openapi.js';

import { UploadIdParams } from '../../auth/schemas.js';

export { UploadIdParams };

/** One processor's job for an upload (`JobStatus` of the processors). */
export const JobStatusSchema = z.object({
  kind: z.string(),
  state: z.enum(['queued', 'processing', 'done', 'failed', 'skipped']),
  lane: z.enum(['high', 'normal']).optional(),
  attempts: z.number().int(),
  postponed: z.number().int().optional(),
  reason: z.string().optional(),
  code: z.string().optional(),
  progress: z.number().min(0).max(1).optional(),
  result: z.record(z.string(), z.unknown()).optional(),
  outputLocation: z.string().nullable().optional(),
  outputSizeBytes: z.number().int().optional(),
  reusedFrom: z.string().optional(),
  processingTimeMs: z.number().optional(),
  queuedAt: z.string().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  updatedAt: z.string(),
}).passthrough().openapi('JobStatus');

/** What the processors did with an upload: one job per processor kind and an aggregate state. */
export const ProcessingStatusSchema = z.object({
  uploadId: z.string(),
  eventId: z.string(),
  state: z.enum(['queued', 'processing', 'done', 'failed', 'skipped']).describe('failed if any job failed, else processing, queued, skipped (all skipped) or done'),
  reason: z.string().optional().describe('for failed: "<kind>: <reason>" of each failed job'),
  jobs: z.record(z.string(), JobStatusSchema),
  updatedAt: z.string(),
}).passthrough().openapi('ProcessingStatus');

/** `GET /api/uploads/{id}`: an upload through its life. */
export const UploadInfoSchema = z.object({
  id: z.string(),
  size: z.number().int().nullable().describe('Upload-Length; null while deferred'),
  offset: z.number().int().nullable().describe('bytes received; null while a final upload is assembled'),
  metadata: z.record(z.string(), z.string().nullable()),
  state: z.enum(['created', 'uploading', 'assembling', 'finished']),
  concat: z.union([z.object({ kind: z.literal('partial') }), z.object({ kind: z.literal('final'), parts: z.array(z.string()) })]).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  completedAt: z.string().nullable(),
  expiresAt: z.string().nullable().describe('when an unfinished upload expires; null once finished'),
  processing: ProcessingStatusSchema.nullable().describe('null before any processor saw it'),
}).openapi('Upload');

/** `410` of `GET /api/uploads/{id}`: the upload expired. */
export const UploadExpiredSchema = z.object({
  id: z.string(),
  state: z.literal('expired'),
  expiredAt: z.string().nullable(),
}).openapi('UploadExpired');

/** `GET /api/uploads/{id}/results`: the result files of an upload. */
export const ResultListSchema = z.object({
  files: z.array(z.object({ name: z.string(), contentType: z.string(), size: z.number().int() }).openapi('ResultFile')),
}).openapi('ResultList');

/** A result's name in a path. */
export const ResultParams = UploadIdParams.extend({
  name: z.string().describe('result name: lower-case letters, digits, ".", "_" and "-" (e.g. metadata.json, poster.jpg)'),
});
