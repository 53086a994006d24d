import type { Locker } from '@tus/server';
import type { Config } from '../config/config.js';
import type { EventPublisher } from '../events/types.js';
import type { Lifecycle } from '../ops/lifecycle.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { FinalLinkStore, UploadRecordStore } from '../records/types.js';
import type { UploadStorage } from '../storage/types.js';

/** Everything the tus layer needs, built once at start-up by `AppContext`. */
export interface TusDeps {
  config: Config;
  storage: UploadStorage;
  records: UploadRecordStore;
  links: FinalLinkStore;
  locker: Locker;
  events: EventPublisher;
  metrics: Metrics;
  logger: Logger;
  lifecycle: Lifecycle;
  /** Injectable clock for expiry tests. */
  now: () => Date;
}
