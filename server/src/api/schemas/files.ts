/**
 * Schemas of the files API (`/api/files`, `/api/files/{id}`) and of a file's versions: what
 * `/api/openapi.json` documents, what the handlers validate requests with, and what the API tests
 * check real responses against.
 */
import { z } from '../../http/openapi.js';

/** Files per page of `GET /api/files` unless `limit` says otherwise. */
export const DEFAULT_LIMIT = 50;
/** The largest `limit` of `GET /api/files`. */
export const MAX_LIMIT = 1000;
const NAME_MAX = 255;

/** A file as the API shows it (its current version), with the path its bytes download from. */
export const FileSchema = z.object({
  id: z.string(), tenant: z.string(), owner: z.string(), name: z.string(), key: z.string().nullable(),
  mediaType: z.string(), size: z.number().int(), sha256: z.string().nullable(), uploadId: z.string(),
  storageClass: z.enum(['standard', 'cold']), metadata: z.record(z.string(), z.string().nullable()),
  processing: z.unknown().nullable(), tags: z.array(z.string()), currentVersion: z.number().int(),
  createdAt: z.string(), finishedAt: z.string(), lastAccessedAt: z.string().nullable(), updatedAt: z.string(),
  download: z.string().describe('path the bytes download from (tus GET)'),
}).passthrough().openapi('File');

/** The id of a file in a path. */
export const FileIdParams = z.object({ id: z.string().describe('file id') });

const ISO_TIME = 'must be an ISO 8601 time';
const isoTime = z.string().refine((v) => Number.isFinite(Date.parse(v)), ISO_TIME).describe('ISO 8601 time');
const LIMIT = `must be 1 to ${MAX_LIMIT}`;

/** Filters and pagination of `GET /api/files` (an empty value counts as absent). */
export const FileListQuery = z.object({
  tag: z.string().optional().describe('files with this tag'),
  mediaType: z.string().optional().describe('files of this media type (case-insensitive); `video/*` for a family'),
  namePrefix: z.string().optional().describe('files whose name starts with this'),
  createdFrom: isoTime.optional().describe('files created at or after this ISO 8601 time'),
  createdTo: isoTime.optional().describe('files created before this ISO 8601 time'),
  cursor: z.string().optional().describe('`nextCursor` of the previous page'),
  limit: z.string().regex(/^\d{1,10}$/, LIMIT).refine((v) => Number(v) >= 1 && Number(v) <= MAX_LIMIT, LIMIT).optional()
    .describe(`files per page, 1 to ${MAX_LIMIT} (default ${DEFAULT_LIMIT})`),
});

/** A page of `GET /api/files`, newest first. */
export const FileListSchema = z.object({
  files: z.array(FileSchema),
  nextCursor: z.string().nullable().describe('pass as `cursor` for the next page; null on the last'),
}).openapi('FileList');

const NAME_RULE = `name must be 1 to ${NAME_MAX} characters without control characters`;
const TAGS_RULE = 'tags must be a list of at most 32 strings of at most 64 characters, without commas';

/** `PATCH /api/files/{id}`: what may change (name, tags); any other field is refused. */
export const FilePatchSchema = z.strictObject({
  name: z.string(NAME_RULE).max(NAME_MAX, NAME_RULE).regex(/^[^\u0000-\u001f\u007f]*$/, NAME_RULE).refine((v) => v.trim() !== '', NAME_RULE)
    .optional().describe('new name (trimmed)'),
  tags: z.array(z.string(TAGS_RULE).max(64, TAGS_RULE).regex(/^[^,]*$/, TAGS_RULE), TAGS_RULE).max(32, TAGS_RULE).optional()
    .describe('replaces the tags'),
}, {
  error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.join(', ')}: only name and tags change` : undefined),
}).openapi('FilePatch');

/** A file and one of its versions in a path. */
export const VersionParams = FileIdParams.extend({
  n: z.string().describe('version number (1 is the first upload with this key)'),
});

/** One version of a file. */
export const VersionSchema = z.object({
  version: z.number().int(), current: z.boolean(), uploadId: z.string(), size: z.number().int(),
  sha256: z.string().nullable(), name: z.string(), metadata: z.record(z.string(), z.string().nullable()), createdAt: z.string(),
}).openapi('FileVersion');

/** `GET /api/files/{id}/versions`: newest first. */
export const VersionListSchema = z.object({
  fileId: z.string(),
  current: z.number().int().describe('the current version number'),
  versions: z.array(VersionSchema),
}).openapi('FileVersionList');

/** `POST /api/files/{id}/versions/{n}/restore`: the file and the new version that restored `n`. */
export const RestoredSchema = z.object({ file: FileSchema, version: VersionSchema }).openapi('RestoredVersion');
