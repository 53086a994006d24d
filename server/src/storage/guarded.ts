import type { Readable } from 'node:stream';
import { CircuitOpenError, type CircuitBreaker } from '@tus-edge/processors';
import { isTransient } from './s3/retry.js';
import { StorageUnavailableError, type ByteRange, type CreateOptions, type StoredOffset, type UploadLocation, type UploadStorage, type WriteOptions, type WriteResult } from './types.js';

/** Failures that say the store is unwell (after its own retries), as opposed to a missing object or a refused request. */
function isOutage(err: unknown): boolean {
  return err instanceof StorageUnavailableError || isTransient(err);
}

/**
 * A storage behind a circuit breaker (a wrapper around the port, so the storage itself stays plain).
 * Transient failures (5xx, timeouts, resets) count; once the breaker is open every call fails at once
 * with {@link StorageUnavailableError} carrying `retryAfterSeconds`, which requests answer as the
 * catalogue's `STORAGE_UNAVAILABLE` 503 with that `Retry-After`, instead of waiting for a store that
 * does not answer. `location` asks nothing of the store and is passed through.
 */
export class GuardedStorage implements UploadStorage {
  readonly truncate?: (id: string, length: number) => Promise<void>;

  constructor(
    private readonly inner: UploadStorage,
    private readonly breaker: CircuitBreaker,
  ) {
    // An optional capability stays optional: present here only when the inner storage has it.
    const truncate = inner.truncate?.bind(inner);
    if (truncate) this.truncate = (id, length) => this.guard(() => truncate(id, length));
  }

  private async guard<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await this.breaker.run(call, isOutage);
    } catch (err) {
      if (err instanceof CircuitOpenError) throw new StorageUnavailableError(err, Math.ceil(err.retryAfterMs / 1000));
      throw err;
    }
  }

  create(id: string, options?: CreateOptions): Promise<void> {
    return this.guard(() => this.inner.create(id, options));
  }

  offset(id: string): Promise<StoredOffset | undefined> {
    return this.guard(() => this.inner.offset(id));
  }

  write(id: string, offset: number, body: Readable, options: WriteOptions): Promise<WriteResult> {
    return this.guard(() => this.inner.write(id, offset, body, options));
  }

  complete(id: string, length: number): Promise<void> {
    return this.guard(() => this.inner.complete(id, length));
  }

  read(id: string, range?: ByteRange): Promise<Readable> {
    return this.guard(() => this.inner.read(id, range));
  }

  concatenate(targetId: string, partIds: string[]): Promise<void> {
    return this.guard(() => this.inner.concatenate(targetId, partIds));
  }

  remove(id: string): Promise<void> {
    return this.guard(() => this.inner.remove(id));
  }

  location(id: string): UploadLocation {
    return this.inner.location(id);
  }

  check(): Promise<void> {
    return this.guard(() => this.inner.check());
  }
}
