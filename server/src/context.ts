import path from 'node:path';
import type { Locker } from '@tus/server';
import type { Config } from './config/config.js';
import { FileOutbox } from './events/file-outbox.js';
import type { EventPublisher } from './events/types.js';
import { ProcessLocker } from './locking/process-locker.js';
import { Lifecycle } from './ops/lifecycle.js';
import { createLogger, type Logger } from './ops/logger.js';
import { Metrics } from './ops/metrics.js';
import { JsonFileKvStore } from './records/json-file-kv.js';
import type { FinalLinkStore, UploadRecord, UploadRecordStore } from './records/types.js';
import { FileStorage } from './storage/file-storage.js';
import type { UploadStorage } from './storage/types.js';
import type { TusDeps } from './tus/deps.js';

/** Dependencies a test may replace. */
export type Overrides = Partial<Omit<TusDeps, 'config'>>;

/**
 * Builds every dependency once from the config. This is the one place that chooses implementations:
 * today the embedded default (file storage, in-process locker, file records, directory outbox); the
 * distributed ones (S3, Redis, NATS) slot in here beside them.
 */
export function buildContext(config: Config, overrides: Overrides = {}): TusDeps {
  const logger: Logger = overrides.logger ?? createLogger(config.logLevel, { node: config.nodeName });
  const storage: UploadStorage =
    overrides.storage ?? new FileStorage({ directory: path.join(config.dataDir, 'uploads'), fsync: config.fsync });
  const records: UploadRecordStore =
    overrides.records ?? new JsonFileKvStore<UploadRecord>(path.join(config.dataDir, 'records'));
  const links: FinalLinkStore = overrides.links ?? new JsonFileKvStore<string[]>(path.join(config.dataDir, 'links'));
  const locker: Locker = overrides.locker ?? new ProcessLocker();
  const events: EventPublisher = overrides.events ?? new FileOutbox(path.join(config.dataDir, 'events'));
  return {
    config,
    storage,
    records,
    links,
    locker,
    events,
    logger,
    metrics: overrides.metrics ?? new Metrics(),
    lifecycle: overrides.lifecycle ?? new Lifecycle(),
    now: overrides.now ?? (() => new Date()),
  };
}
