import fs from 'node:fs/promises';
import path from 'node:path';
import type { UploadCompletedEvent } from '../event.js';
import type { EventPublisher } from '../publisher.js';
import { jsonFiles, writeFileAtomic } from './fsutil.js';

/**
 * The writer of the embedded directory outbox `DATA_DIR/events` ({@link DirectorySource} is its
 * reader): each event is one file `<dir>/pending/<eventId>.json`, written to a temp file, fsynced and
 * renamed, then the directory is fsynced. A duplicate publish rewrites the same file, so it collapses.
 */
export class DirectoryOutbox implements EventPublisher {
  private readonly pendingDir: string;
  /** Created on the first publish; a failed attempt is tried again on the next one. */
  private made: Promise<void> | undefined;

  constructor(directory: string) {
    this.pendingDir = path.join(directory, 'pending');
  }

  async publish(event: UploadCompletedEvent): Promise<void> {
    await (this.made ??= fs.mkdir(this.pendingDir, { recursive: true }).then(
      () => undefined,
      (err: unknown) => {
        this.made = undefined;
        throw err;
      },
    ));
    await writeFileAtomic(path.join(this.pendingDir, `${event.eventId}.json`), JSON.stringify(event), true);
  }

  /** Events recorded and not yet consumed, oldest first by completion time. */
  async pending(): Promise<UploadCompletedEvent[]> {
    const names = await jsonFiles(this.pendingDir);
    const events = await Promise.all(
      names.map(async (n) => JSON.parse(await fs.readFile(path.join(this.pendingDir, n), 'utf8')) as UploadCompletedEvent),
    );
    return events.sort((a, b) => a.completedAt.localeCompare(b.completedAt));
  }
}
