import path from 'node:path';
import type { ProcessorsConfig } from '../config/config.js';
import type { UploadLocation } from '../pipeline/event.js';
import { FileResultStore } from './file.js';
import { S3ResultStore, type ResultsS3API } from './s3.js';
import type { ResultStore } from './types.js';

/** `DATA_DIR/results`: where file results live. */
export function resultsDir(config: Pick<ProcessorsConfig, 'dataDir'>): string {
  return path.join(config.dataDir, 'results');
}

/**
 * The result store beside the uploads: S3 (same bucket, `results/<uploadId>/`) when the uploads are in
 * S3, else files under `DATA_DIR/results`. The server calls it once with its bucket; the runtime once
 * per bucket it meets (see {@link createResultStores}).
 */
export function createResultStore(config: Pick<ProcessorsConfig, 'dataDir'>, s3?: { client: ResultsS3API; bucket: string }): ResultStore {
  return s3 ? new S3ResultStore(s3.client, s3.bucket) : new FileResultStore(resultsDir(config));
}

/**
 * The runtime's choice, made once at start: results go where the upload is (a `file` location → files,
 * an `s3` location → its bucket). Stores are built on first use and kept.
 */
export function createResultStores(config: Pick<ProcessorsConfig, 'dataDir'>, s3Client: () => ResultsS3API): (location: UploadLocation) => ResultStore {
  const file = createResultStore(config);
  const byBucket = new Map<string, ResultStore>();
  let client: ResultsS3API | undefined;
  return (location) => {
    if (location.kind === 'file') return file;
    let store = byBucket.get(location.bucket);
    if (!store) {
      store = createResultStore(config, { client: (client ??= s3Client()), bucket: location.bucket });
      byBucket.set(location.bucket, store);
    }
    return store;
  };
}
