import { expect, it } from 'vitest';
import type { UsageStore } from './usage.js';

/** The contract every {@link UsageStore} passes; `make` returns a fresh, empty store. */
export function usageContract(make: () => Promise<UsageStore>): void {
  it('starts at zero and adds', async () => {
    const store = await make();
    expect(await store.get('o:a')).toEqual({ bytes: 0, uploads: 0 });
    expect(await store.add('o:a', { bytes: 10, uploads: 1 })).toEqual({ ok: true, usage: { bytes: 10, uploads: 1 } });
    expect(await store.get('o:a')).toEqual({ bytes: 10, uploads: 1 });
    expect(await store.get('o:b')).toEqual({ bytes: 0, uploads: 0 });
  });

  it('refuses a positive delta past a limit and changes nothing', async () => {
    const store = await make();
    await store.add('o:a', { bytes: 90, uploads: 2 });
    expect((await store.add('o:a', { bytes: 11, uploads: 0 }, { bytes: 100, uploads: 0 })).ok).toBe(false);
    expect((await store.add('o:a', { bytes: 0, uploads: 1 }, { bytes: 0, uploads: 2 })).ok).toBe(false);
    expect((await store.add('o:a', { bytes: 10, uploads: 0 }, { bytes: 100, uploads: 2 })).ok).toBe(true);
    expect(await store.get('o:a')).toEqual({ bytes: 100, uploads: 2 });
  });

  it('always applies releases, never below zero', async () => {
    const store = await make();
    await store.add('o:a', { bytes: 5, uploads: 1 });
    expect(await store.add('o:a', { bytes: -50, uploads: -3 }, { bytes: 1, uploads: 1 })).toEqual({ ok: true, usage: { bytes: 0, uploads: 0 } });
  });

  it('lets exactly the limit through under concurrency', async () => {
    const store = await make();
    const results = await Promise.all(Array.from({ length: 20 }, () => store.add('o:c', { bytes: 0, uploads: 1 }, { bytes: 0, uploads: 7 })));
    expect(results.filter((r) => r.ok)).toHaveLength(7);
    expect(await store.get('o:c')).toEqual({ bytes: 0, uploads: 7 });
  });

  it('holds sizes beyond 32 bits exactly', async () => {
    const store = await make();
    await store.add('o:big', { bytes: 5 * 1024 ** 4, uploads: 0 });
    expect((await store.get('o:big')).bytes).toBe(5 * 1024 ** 4);
  });
}
