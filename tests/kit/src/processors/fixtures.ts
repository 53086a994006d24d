/** Test fixtures: events and an outbox writer that mirrors the server's FileOutbox. */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { UploadCompletedEvent } from '@tus-edge/processors';

let counter = 0;

/** A valid event; `id` defaults to a fresh one. The location points at `filePath` (default a missing file). */
export function makeEvent(overrides: Partial<UploadCompletedEvent> & { id?: string; filePath?: string } = {}): UploadCompletedEvent {
  const { id: givenId, filePath, ...rest } = overrides;
  const id = givenId ?? `u${Date.now().toString(36)}${(counter++).toString(36)}`;
  return {
    version: 1,
    type: 'uploads.completed',
    eventId: `upload-${id}`,
    uploadId: id,
    size: 5,
    metadata: {},
    location: { kind: 'file', path: filePath ?? `/nonexistent/${id}` },
    completedAt: new Date().toISOString(),
    node: 'test',
    ...rest,
  };
}

/** Writes `<eventsDir>/pending/<eventId>.json` the way the server's FileOutbox does (temp, fsync, rename, fsync dir). */
export async function writeOutboxEvent(eventsDir: string, event: UploadCompletedEvent): Promise<void> {
  const dir = path.join(eventsDir, 'pending');
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${event.eventId}.json`);
  const fh = await fs.open(`${file}.tmp`, 'w');
  try {
    await fh.writeFile(JSON.stringify(event));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(`${file}.tmp`, file);
  const d = await fs.open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** Polls `check` every 10 ms until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as Exclude<T, false | null | undefined | 0 | ''>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
