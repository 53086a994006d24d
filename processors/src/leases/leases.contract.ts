import { describe, expect, it } from 'vitest';
import type { JobLeases } from './types.js';

export interface LeasesFixture {
  /** Two holders that exclude each other (two workers on one store). */
  a: JobLeases;
  b: JobLeases;
  cleanup?: () => Promise<unknown>;
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The behaviour every {@link JobLeases} implementation must have. */
export function leasesContract(name: string, make: () => Promise<LeasesFixture>): void {
  describe(`JobLeases contract: ${name}`, () => {
    const withLeases = async (body: (f: LeasesFixture) => Promise<void>) => {
      const f = await make();
      try {
        await body(f);
      } finally {
        await f.a.close();
        await f.b.close();
        await f.cleanup?.();
      }
    };

    it('one holder at a time, the holder itself included', () =>
      withLeases(async ({ a, b }) => {
        expect(await a.acquire('job-1', 10_000)).toBe(true);
        expect(await a.acquire('job-1', 10_000)).toBe(false);
        expect(await b.acquire('job-1', 10_000)).toBe(false);
        expect(await b.acquire('job-2', 10_000)).toBe(true);
      }));

    it('only the holder renews or releases; a release frees the job for the next', () =>
      withLeases(async ({ a, b }) => {
        expect(await a.acquire('job', 10_000)).toBe(true);
        expect(await b.renew('job', 10_000)).toBe(false);
        await b.release('job');
        expect(await b.acquire('job', 10_000)).toBe(false);
        expect(await a.renew('job', 10_000)).toBe(true);
        await a.release('job');
        expect(await b.acquire('job', 10_000)).toBe(true);
        expect(await a.renew('job', 10_000)).toBe(false);
      }));

    it('a lease that is not renewed runs out: another takes it, and the first can no longer renew', () =>
      withLeases(async ({ a, b }) => {
        expect(await a.acquire('job', 150)).toBe(true);
        expect(await a.renew('job', 150)).toBe(true);
        await wait(300);
        expect(await b.acquire('job', 10_000)).toBe(true);
        expect(await a.renew('job', 10_000)).toBe(false);
        await a.release('job');
        expect(await a.acquire('job', 10_000)).toBe(false);
      }));
  });
}
