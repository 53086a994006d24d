/** A full {@link ProcessorContext} for calling a processor's `run` directly in tests. */
import fs from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  MemoryStatusStore, silentLogger, uploadResults, waitForJobs,
  type ProcessorContext, type ResultStore, type SniffedType, type StatusStore, type UploadCompletedEvent, type UploadLocation,
} from '@tus-edge/processors';

export interface TestContext extends ProcessorContext {
  /** Every progress report. */
  progressed: number[];
  controller: AbortController;
}

export async function openFileLocation(location: UploadLocation): Promise<Readable> {
  if (location.kind !== 'file') throw new Error(`not a file location: ${location.kind}`);
  return (await fs.open(location.path, 'r')).createReadStream();
}

export function testContext(event: UploadCompletedEvent, store: ResultStore, options: { sniffed?: SniffedType; status?: StatusStore; attempt?: number } = {}): TestContext {
  const controller = new AbortController();
  const progressed: number[] = [];
  const status = options.status ?? new MemoryStatusStore();
  return {
    working: () => undefined,
    progress: (f) => progressed.push(f),
    logger: silentLogger,
    signal: controller.signal,
    openStream: openFileLocation,
    attempt: options.attempt ?? 1,
    results: uploadResults(store, event.uploadId, controller.signal),
    sniffed: options.sniffed,
    waitFor: (kinds) => waitForJobs(status, event.uploadId, event.eventId, kinds, controller.signal, event.request?.kinds),
    progressed,
    controller,
  };
}
