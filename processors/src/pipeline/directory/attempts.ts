import fs from 'node:fs/promises';
import path from 'node:path';
import { parseJobAttempt, type AttemptRecorder, type JobAttempt } from '../attempts.js';
import { jsonFiles, writeFileAtomic } from './fsutil.js';

/** Where a worker on the directory queue leaves its attempt records for the server: `DATA_DIR/analytics/attempts`. */
export function attemptsDir(dataDir: string): string {
  return path.join(dataDir, 'analytics', 'attempts');
}

/**
 * A separate worker's {@link AttemptRecorder} on the embedded directory queue (no JetStream): one file
 * per attempt (`<base64url id>.json`, written atomically), taken into the job history by the server's
 * {@link drainAttempts}. The same attempt written twice is one file.
 */
export class DirectoryAttemptRecorder implements AttemptRecorder {
  private made = false;

  constructor(private readonly dir: string) {}

  async record(attempt: JobAttempt): Promise<void> {
    if (!this.made) {
      await fs.mkdir(this.dir, { recursive: true });
      this.made = true;
    }
    await writeFileAtomic(path.join(this.dir, `${Buffer.from(attempt.id).toString('base64url')}.json`), JSON.stringify(attempt), false);
  }
}

/**
 * The server's side: writes up to `limit` attempt files of `dir` as one batch, then deletes them (a
 * crash in between writes them again, harmlessly: writes are idempotent by attempt id). Malformed
 * files are deleted unwritten. Returns how many files it took.
 */
export async function drainAttempts(dir: string, write: (batch: JobAttempt[]) => Promise<void>, limit = 500): Promise<{ written: number; dropped: number }> {
  const names = (await jsonFiles(dir)).slice(0, limit);
  const batch: JobAttempt[] = [];
  const taken: string[] = [];
  let dropped = 0;
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      batch.push(parseJobAttempt(JSON.parse(await fs.readFile(file, 'utf8'))));
      taken.push(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // taken by another drain meanwhile
      dropped++;
      await fs.rm(file, { force: true });
    }
  }
  if (batch.length > 0) await write(batch);
  for (const file of taken) await fs.rm(file, { force: true });
  return { written: batch.length, dropped };
}
