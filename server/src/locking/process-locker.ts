import type { Lock, Locker, RequestRelease } from '@tus/server';
import { tusError } from '../errors.js';

interface Holder {
  requestRelease: RequestRelease;
  waiters: Set<() => void>;
}

/**
 * In-process implementation of the tus `Locker` contract. A request that finds the lock taken asks
 * the holder to let go (`requestRelease`, e.g. a stalled PATCH whose client reconnected) and waits
 * without polling until it is free, its signal aborts, or `acquireTimeoutMs` passes (→ 423).
 */
export class ProcessLocker implements Locker {
  private readonly held = new Map<string, Holder>();

  constructor(private readonly acquireTimeoutMs = 10_000) {}

  newLock(id: string): Lock {
    let owned = false;
    return {
      lock: async (signal, requestRelease) => {
        await this.acquire(id, signal, requestRelease);
        owned = true;
      },
      unlock: async () => {
        if (!owned) return;
        owned = false;
        this.release(id);
      },
    };
  }

  private async acquire(id: string, signal: AbortSignal, requestRelease: RequestRelease): Promise<void> {
    const deadline = Date.now() + this.acquireTimeoutMs;
    for (;;) {
      const holder = this.held.get(id);
      if (!holder) {
        this.held.set(id, { requestRelease, waiters: new Set() });
        return;
      }
      if (signal.aborted) throw tusError('LOCK_TIMEOUT', 'request ended while waiting');
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw tusError('LOCK_TIMEOUT');
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          holder.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, remaining);
        signal.addEventListener('abort', done, { once: true });
        holder.waiters.add(done);
        void Promise.resolve(holder.requestRelease()).catch(() => undefined);
      });
    }
  }

  private release(id: string): void {
    const holder = this.held.get(id);
    if (!holder) return;
    this.held.delete(id);
    for (const wake of holder.waiters) wake();
  }
}
