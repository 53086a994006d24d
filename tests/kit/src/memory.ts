/** In-memory test doubles of the production ports; never used by a shipped module. */
import type { EventPublisher, UploadCompletedEvent } from '@tus-edge/processors';

/** An {@link EventPublisher} that keeps events in memory, keyed by `eventId` (so duplicates collapse). */
export class MemoryPublisher implements EventPublisher {
  readonly events = new Map<string, UploadCompletedEvent>();
  async publish(event: UploadCompletedEvent): Promise<void> {
    this.events.set(event.eventId, event);
  }
}

/** In-memory key-value store (the server's `KvStore` port), with the same copy semantics as the file store. */
export class MemoryKvStore<T> {
  private readonly map = new Map<string, T>();
  async get(key: string): Promise<T | undefined> {
    const v = this.map.get(key);
    return v === undefined ? undefined : structuredClone(v);
  }
  async set(key: string, value: T): Promise<void> {
    this.map.set(key, structuredClone(value));
  }
  async delete(key: string): Promise<void> {
    this.map.delete(key);
  }
  async list(): Promise<string[]> {
    return [...this.map.keys()];
  }
}
