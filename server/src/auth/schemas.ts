/**
 * Schemas of the security API: upload tokens, signed URLs and usage. The request schemas carry the
 * configured maxima (`MAX_SIZE`, `UPLOAD_TOKEN_TTL`, `SIGNED_URL_TTL`), so they are built at mount.
 */
import { isResultName } from '@tus-edge/processors';
import { z } from '../http/openapi.js';

const MEDIA_PATTERN = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,126})$/i;
const TYPES_RULE = 'types must be a list of media types such as image/png or video/*';

/** An optional integer from 1 to `max` (null counts as absent). */
function upTo(max: number, description: string) {
  const rule = `must be an integer from 1 to ${max}`;
  return z.number(rule).int(rule).min(1, rule).max(max, rule).nullish().describe(description);
}

/** `POST /api/upload-tokens`: the limits of the token and its lifetime in seconds. */
export function uploadTokenRequest(maxSize: number, maxTtlS: number) {
  return z.object({
    maxSize: upTo(maxSize, 'largest upload it may create, in bytes'),
    types: z.array(z.string(TYPES_RULE).regex(MEDIA_PATTERN, TYPES_RULE), TYPES_RULE).max(64, TYPES_RULE).optional()
      .describe('media types it may upload, judged by the bytes (`image/*` for a family)'),
    maxUploads: upTo(1_000_000, 'how many uploads it may create'),
    expiresIn: upTo(maxTtlS, `seconds until it expires (default and at most ${maxTtlS})`),
  }).openapi('UploadTokenRequest');
}

/** What an upload token allows. */
export const UploadTokenLimitsSchema = z.object({
  maxSize: z.number().int().optional(), types: z.array(z.string()).optional(), maxUploads: z.number().int().optional(),
}).openapi('UploadTokenLimits');

/** `201` of `POST /api/upload-tokens`. */
export const UploadTokenSchema = z.object({
  token: z.string().describe('send as Authorization: Bearer'),
  expiresAt: z.string(),
  limits: UploadTokenLimitsSchema,
}).openapi('UploadToken');

/** `POST /api/uploads/{id}/signed-url`: a result instead of the upload's bytes, and the lifetime in seconds. */
export function signedUrlRequest(maxTtlS: number) {
  return z.object({
    result: z.string().refine(isResultName, 'must be a result name (lower-case letters, digits, ".", "_" and "-")').optional()
      .describe('sign the URL of this result instead of the upload bytes'),
    expiresIn: upTo(maxTtlS, `seconds until it expires (default and at most ${maxTtlS})`),
  }).openapi('SignedUrlRequest');
}

/** `200` of `POST /api/uploads/{id}/signed-url`. */
export const SignedUrlSchema = z.object({
  url: z.string().describe('absolute URL, downloadable without a token until expiresAt'),
  expiresAt: z.string(),
}).openapi('SignedUrl');

const Figures = z.object({ files: z.number().int(), bytes: z.number().int() }).openapi('UsageFigures');
const Counters = z.object({ bytes: z.number().int(), uploads: z.number().int() }).openapi('QuotaCounters');

/** `GET /api/usage`: the caller's quota counters (null with auth off) and what the catalogue stores for it. */
export const UsageSchema = z.object({
  owner: z.string().nullable(),
  tenant: z.string().nullable(),
  usage: Counters.nullable().describe('bytes and unfinished uploads counted against the quotas'),
  limits: Counters.nullable().describe('QUOTA_BYTES and QUOTA_UPLOADS (0: unlimited)'),
  tracked: z.boolean().describe('a quota is set, so usage is counted'),
  files: z.number().int(),
  bytesStored: z.number().int().describe('bytes of the distinct objects (deduplicated content counted once)'),
  bytesDeduplicated: z.number().int(),
  byMediaType: z.record(z.string(), Figures),
  byStorageClass: z.record(z.string(), Figures),
}).openapi('Usage');

/** The id of an upload in a path (as `/api/uploads/{id}` names it). */
export const UploadIdParams = z.object({ id: z.string().describe('upload id (the last segment of the tus upload URL)') });
