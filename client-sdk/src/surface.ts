/** The public surface shared by both entry points (types and environment-free values). */
export { TusEdgeError, type ClientErrorCode } from './errors.js';
export type { TokenAnswer, TokenCallback } from './auth.js';
export type { Progress } from './progress.js';
export type { RetryPolicy } from './retry.js';
export type { WatchOptions } from './processing.js';
export type { ClientOptions, TusEdgeClient } from './client.js';
export type { ReadableStreamLike, UploadHandle, UploadOptions, UploadSource, UploadState } from './upload.js';
export type * from './types.js';
