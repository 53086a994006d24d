import { describe, expect, it } from 'vitest';
import type { ProcessRequestRecord, ProcessRequestStore } from './process-requests.js';

const record = (jobId: string, requestHash = 'h1'): ProcessRequestRecord => ({
  jobId, fileId: 'f1', uploadId: 'u1', tenant: '', owner: 'alice', kinds: ['video'], options: { video: { frames: 2 } },
  lane: 'normal', requestedAt: new Date().toISOString(), requestHash,
});

/** The contract every {@link ProcessRequestStore} passes (files, Redis). `factory()` gives a fresh, empty store. */
export function processRequestStoreContract(name: string, factory: () => Promise<ProcessRequestStore>): void {
  describe(`ProcessRequestStore contract: ${name}`, () => {
    it('binds a key once: the second request with it gets the first one', async () => {
      const store = await factory();
      expect(await store.bind('k1', record('p-1'))).toBeNull();
      expect(await store.bind('k1', record('p-2', 'h2'))).toMatchObject({ jobId: 'p-1', requestHash: 'h1' });
      expect(await store.bind('k2', record('p-3'))).toBeNull();
    });

    it('of concurrent requests with one key, exactly one binds', async () => {
      const store = await factory();
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.bind('race', record(`p-${i}`))));
      expect(results.filter((r) => r === null)).toHaveLength(1);
      const winner = results.findIndex((r) => r === null);
      expect(new Set(results.filter(Boolean).map((r) => r!.jobId))).toEqual(new Set([`p-${winner}`]));
    });

    it('unbinds a key, so it can name a new request', async () => {
      const store = await factory();
      await store.bind('k', record('p-1'));
      await store.unbind('k');
      expect(await store.bind('k', record('p-2'))).toBeNull();
      await store.unbind('never-bound');
    });

    it('keeps job records by job id', async () => {
      const store = await factory();
      expect(await store.get('p-none')).toBeNull();
      await store.save(record('p-9'));
      expect(await store.get('p-9')).toMatchObject({ jobId: 'p-9', kinds: ['video'], options: { video: { frames: 2 } } });
    });
  });
}
