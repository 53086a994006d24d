import type { Locker } from '@tus/server';
import type { ResultStore, StatusStore } from '@tus-edge/processors';
import type { Security } from '../auth/security.js';
import type { Config } from '../config/config.js';
import type { EventPublisher } from '../events/types.js';
import type { Lifecycle } from '../ops/lifecycle.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { FinalLinkStore, UploadRecordStore } from '../records/types.js';
import type { Staging } from '../storage/staging.js';
import type { UploadStorage } from '../storage/types.js';

/** Everything the tus layer needs, built once at start-up by `AppContext`. */
export interface TusDeps {
  config: Config;
  storage: UploadStorage;
  /** Scratch space for writes verified before they reach a storage without `truncate`. */
  staging: Staging;
  records: UploadRecordStore;
  links: FinalLinkStore;
  locker: Locker;
  events: EventPublisher;
  /** Processing status per upload (written by the processor runtime, read by the API). */
  status: StatusStore;
  /** What the processors produced for each upload; removed with the upload. */
  results: ResultStore;
  metrics: Metrics;
  logger: Logger;
  lifecycle: Lifecycle;
  /** Injectable clock for expiry tests. */
  now: () => Date;
  /** Authentication, upload tokens, signed URLs, rate limits, quotas and content checks. */
  security: Security;
  /** Readiness checks of the backing services (storage, Redis), by name; each rejects when unavailable. */
  checks: Record<string, () => Promise<void>>;
  /** Closes connections to backing services (after the HTTP server has closed). */
  close: () => Promise<void>;
}
