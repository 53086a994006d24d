import { ERRORS } from '@tus/utils';

const MISSING = new Set(['NoSuchKey', 'NoSuchUpload', 'NotFound']);

/** True for "that object / multipart upload does not exist" from S3 or from @tus/s3-store. */
export function isNotFound(err: unknown): boolean {
  if (err === ERRORS.FILE_NOT_FOUND) return true;
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  // A missing bucket is a configuration error, never "this upload does not exist".
  if (e?.name === 'NoSuchBucket' || e?.Code === 'NoSuchBucket') return false;
  return MISSING.has(e?.name ?? '') || MISSING.has(e?.Code ?? '') || e?.$metadata?.httpStatusCode === 404;
}

/** The multipart upload is gone (completed or aborted); a bare 404 does not say that much. */
export function isMissingUpload(err: unknown): boolean {
  const e = err as { name?: string; Code?: string };
  return ['NoSuchUpload', 'NoSuchKey'].includes(e?.name ?? '') || ['NoSuchUpload', 'NoSuchKey'].includes(e?.Code ?? '');
}
