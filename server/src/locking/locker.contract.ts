/**
 * The contract every tus `Locker` implementation must pass (in-process now, Redis later).
 * Call `lockerContract(name, factory)` from a `*.test.ts` file.
 */
import type { Locker } from '@tus/server';
import { describe, expect, it } from 'vitest';

export function lockerContract(name: string, makeLocker: () => Promise<Locker> | Locker): void {
  describe(`Locker contract: ${name}`, () => {
    const never = () => new AbortController().signal;

    it('grants a free lock at once and frees it on unlock', async () => {
      const locker = await makeLocker();
      const a = locker.newLock('u1');
      await a.lock(never(), () => undefined);
      await a.unlock();
      const b = locker.newLock('u1');
      await b.lock(never(), () => undefined);
      await b.unlock();
    });

    it('locks of different ids do not interfere', async () => {
      const locker = await makeLocker();
      const a = locker.newLock('x');
      const b = locker.newLock('y');
      await a.lock(never(), () => undefined);
      await b.lock(never(), () => undefined);
      await a.unlock();
      await b.unlock();
    });

    it('asks the holder to release, and hands the lock over once it does', async () => {
      const locker = await makeLocker();
      const holder = locker.newLock('u2');
      let asked = 0;
      await holder.lock(never(), () => {
        asked++;
        setTimeout(() => void holder.unlock(), 20);
      });
      const started = Date.now();
      const waiter = locker.newLock('u2');
      await waiter.lock(never(), () => undefined);
      expect(asked).toBeGreaterThanOrEqual(1);
      expect(Date.now() - started).toBeLessThan(2000);
      await waiter.unlock();
    });

    it('never lets two requests hold one lock at the same time', async () => {
      const locker = await makeLocker();
      let inside = 0;
      let maxInside = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          const lock = locker.newLock('u3');
          await lock.lock(never(), () => undefined);
          inside++;
          maxInside = Math.max(maxInside, inside);
          await new Promise((r) => setTimeout(r, 5));
          inside--;
          await lock.unlock();
        }),
      );
      expect(maxInside).toBe(1);
    });

    it('gives up when the waiting request is aborted', async () => {
      const locker = await makeLocker();
      const holder = locker.newLock('u4');
      await holder.lock(never(), () => undefined);
      const abort = new AbortController();
      const waiting = locker.newLock('u4').lock(abort.signal, () => undefined);
      setTimeout(() => abort.abort(), 30);
      await expect(waiting).rejects.toThrow();
      await holder.unlock();
    });

    it('unlocking twice or without holding is harmless', async () => {
      const locker = await makeLocker();
      const lock = locker.newLock('u5');
      await lock.unlock();
      await lock.lock(never(), () => undefined);
      await lock.unlock();
      await lock.unlock();
      const again = locker.newLock('u5');
      await again.lock(never(), () => undefined);
      await again.unlock();
    });
  });
}
