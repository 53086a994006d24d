import type { KvStore } from '@tus/server';
import { DEFAULT_CATALOGUE_GRACE_MS, sweepAt, type UploadRecord, type UploadRecordStore } from './types.js';

/**
 * An {@link UploadRecordStore} over a plain key-value store that answers `due` by reading every record:
 * for the embedded stores (one node, records on local disk or in memory), where the sweep read them
 * all before `due` existed. The distributed store keeps an index instead ({@link RedisRecordStore}).
 */
export class ScanningRecordStore implements UploadRecordStore {
  constructor(
    private readonly kv: KvStore<UploadRecord> & { list(): Promise<string[]> },
    private readonly expiryMs: number,
    /** How long a record handed over to the catalogue lives on before the sweep deletes it. */
    private readonly graceMs = DEFAULT_CATALOGUE_GRACE_MS,
  ) {}

  get(id: string): Promise<UploadRecord | undefined> {
    return this.kv.get(id);
  }

  set(id: string, record: UploadRecord): Promise<void> {
    return this.kv.set(id, record);
  }

  delete(id: string): Promise<void> {
    return this.kv.delete(id);
  }

  list(): Promise<string[]> {
    return this.kv.list();
  }

  async due(now: number): Promise<string[]> {
    const due: string[] = [];
    for (const id of await this.kv.list()) {
      const record = await this.kv.get(id);
      const at = record && sweepAt(record, this.expiryMs, this.graceMs);
      if (at !== undefined && at <= now) due.push(id);
    }
    return due;
  }
}
