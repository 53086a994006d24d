export { createApp } from './app.js';
export { buildContext } from './context.js';
export { parseConfig } from './config/config.js';
export type { Config } from './config/config.js';
export { startServer } from './server.js';
export type { RunningServer } from './server.js';
// Building blocks the benchmark harness (loadtests/bench) drives directly.
export { loadConfig } from './config/env.js';
export { ProcessLocker } from './locking/process-locker.js';
export { RedisLocker } from './locking/redis-locker.js';
export { RedisKvStore } from './records/redis-kv.js';
export { RedisRecordStore } from './records/redis-records.js';
export { sweepAt, type UploadRecord } from './records/types.js';
export { S3Storage } from './storage/s3/s3-storage.js';
export { FileStorage } from './storage/file-storage.js';
export { SqlJobHistory } from './analytics/sql-history.js';
export { HistoryWriter } from './analytics/recorder.js';
export { openCatalogueDb } from './catalogue/index.js';
