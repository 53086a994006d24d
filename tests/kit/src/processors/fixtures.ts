/** Test fixtures: events, writing them to a directory outbox, and waiting. */
import { DirectoryOutbox, type UploadCompletedEvent } from '@tus-edge/processors';

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

/** Writes `<eventsDir>/pending/<eventId>.json` with the server's writer, {@link DirectoryOutbox}. */
export async function writeOutboxEvent(eventsDir: string, event: UploadCompletedEvent): Promise<void> {
  await new DirectoryOutbox(eventsDir).publish(event);
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
