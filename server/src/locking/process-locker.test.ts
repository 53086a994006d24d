import { describe, expect, it } from 'vitest';
import { lockerContract } from './locker.contract.js';
import { ProcessLocker } from './process-locker.js';

lockerContract('ProcessLocker', () => new ProcessLocker(2000));

describe('ProcessLocker', () => {
  it('times out with 423 when the holder never lets go', async () => {
    const locker = new ProcessLocker(100);
    const holder = locker.newLock('stuck');
    await holder.lock(new AbortController().signal, () => undefined);
    await expect(locker.newLock('stuck').lock(new AbortController().signal, () => undefined)).rejects.toMatchObject({
      code: 'LOCK_TIMEOUT',
      status: 423,
    });
    await holder.unlock();
  });
});
