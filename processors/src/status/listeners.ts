import type { ProcessingStatus, StatusListener } from './types.js';

/** In-process listener registry shared by the memory and file status stores. */
export class Listeners {
  private readonly byUpload = new Map<string, Set<StatusListener>>();

  add(uploadId: string, listener: StatusListener): () => Promise<void> {
    let set = this.byUpload.get(uploadId);
    if (!set) this.byUpload.set(uploadId, (set = new Set()));
    set.add(listener);
    return async () => {
      set.delete(listener);
      if (set.size === 0) this.byUpload.delete(uploadId);
    };
  }

  /** Number of uploads with at least one listener. */
  get size(): number {
    return this.byUpload.size;
  }

  has(uploadId: string): boolean {
    return this.byUpload.has(uploadId);
  }

  emit(status: ProcessingStatus): void {
    for (const listener of this.byUpload.get(status.uploadId) ?? []) {
      try {
        listener(status);
      } catch {
        /* a listener's failure is its own */
      }
    }
  }

  clear(): void {
    this.byUpload.clear();
  }
}
