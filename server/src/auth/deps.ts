import type { Config } from '../config/config.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { UploadRecordStore } from '../records/types.js';
import type { Catalogue } from '../catalogue/types.js';
import type { Security } from './security.js';

/** What the auth middleware and the security API need of the app context (a narrow view of `AppContext`). */
export interface AuthDeps {
  config: Pick<Config, 'tusPath' | 'trustProxy' | 'maxSize'>;
  security: Security;
  records: Pick<UploadRecordStore, 'get'>;
  /** Answers for a finished upload whose record ended after its hand-over to the catalogue. */
  catalogue: Pick<Catalogue, 'byUpload' | 'usage'>;
  metrics: Metrics;
  logger: Logger;
  now: () => Date;
}
