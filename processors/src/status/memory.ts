import { Listeners } from './listeners.js';
import { applyClaim, applyPlan, applyUpdate, type ProcessingStatus, type StatusClaim, type StatusListener, type StatusStore, type StatusUpdate } from './types.js';

/** {@link StatusStore} in memory, for unit tests and single-process experiments. */
export class MemoryStatusStore implements StatusStore {
  private readonly records = new Map<string, ProcessingStatus>();
  private readonly listeners = new Listeners();

  constructor(private readonly clock: () => Date = () => new Date()) {}

  async get(uploadId: string): Promise<ProcessingStatus | null> {
    const s = this.records.get(uploadId);
    return s ? structuredClone(s) : null;
  }

  async update(update: StatusUpdate): Promise<ProcessingStatus> {
    const current = this.records.get(update.uploadId) ?? null;
    const next = applyUpdate(current, update, this.clock());
    if (!next) return structuredClone(current!);
    this.records.set(update.uploadId, next);
    this.listeners.emit(structuredClone(next));
    return structuredClone(next);
  }

  async subscribe(uploadId: string, listener: StatusListener): Promise<() => Promise<void>> {
    return this.listeners.add(uploadId, listener);
  }

  async plan(uploadId: string, eventId: string, kinds: readonly string[]): Promise<ProcessingStatus | null> {
    const current = this.records.get(uploadId) ?? null;
    const next = applyPlan(current, uploadId, eventId, kinds, this.clock());
    if (!next) return current && structuredClone(current);
    this.records.set(uploadId, next);
    this.listeners.emit(structuredClone(next));
    return structuredClone(next);
  }

  async claim(claim: StatusClaim): Promise<string[]> {
    const { next, busy } = applyClaim(this.records.get(claim.uploadId) ?? null, claim, this.clock());
    if (next) {
      this.records.set(claim.uploadId, next);
      this.listeners.emit(structuredClone(next));
    }
    return busy;
  }

  async remove(uploadId: string): Promise<void> {
    this.records.delete(uploadId);
  }

  /** Nothing lives long enough in memory to need it. */
  async prune(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
