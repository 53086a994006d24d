import fs from 'node:fs/promises';
import path from 'node:path';
import { directoryOnce } from '../storage/dir.js';
import type { EventPublisher, UploadCompletedEvent } from './types.js';

/**
 * Embedded {@link EventPublisher}: each event is one file `<dir>/pending/<eventId>.json`, written to a
 * temp file, fsynced and renamed, then the directory is fsynced. A duplicate publish rewrites the same
 * file, so it collapses. The embedded processor runtime consumes `pending/`.
 */
export class FileOutbox implements EventPublisher {
  private readonly pendingDir: string;
  private readonly dir: ReturnType<typeof directoryOnce>;

  constructor(directory: string) {
    this.pendingDir = path.join(directory, 'pending');
    this.dir = directoryOnce(this.pendingDir);
  }

  async publish(event: UploadCompletedEvent): Promise<void> {
    await this.dir.ensure();
    const file = path.join(this.pendingDir, `${event.eventId}.json`);
    const tmp = `${file}.tmp`;
    const fh = await fs.open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(event));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
    const dir = await fs.open(this.pendingDir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  /** Events recorded and not yet consumed, oldest first by completion time. */
  async pending(): Promise<UploadCompletedEvent[]> {
    let names: string[];
    try {
      names = (await fs.readdir(this.pendingDir)).filter((n) => n.endsWith('.json'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const events = await Promise.all(
      names.map(async (n) => JSON.parse(await fs.readFile(path.join(this.pendingDir, n), 'utf8')) as UploadCompletedEvent),
    );
    return events.sort((a, b) => a.completedAt.localeCompare(b.completedAt));
  }
}

/** In-memory publisher for unit tests. */
export class MemoryPublisher implements EventPublisher {
  readonly events = new Map<string, UploadCompletedEvent>();
  async publish(event: UploadCompletedEvent): Promise<void> {
    this.events.set(event.eventId, event);
  }
}
