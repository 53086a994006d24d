import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StatusStore } from './types.js';

/**
 * The contract every {@link StatusStore} passes. `create()` returns a fresh, empty store; `extra`
 * returns a second store over the same backing data (another "node"), when the store supports one.
 */
export function statusStoreContract(name: string, factory: () => Promise<{ store: StatusStore; other?: () => StatusStore; cleanup?: () => Promise<void> }>): void {
  describe(`StatusStore contract: ${name}`, () => {
    let store: StatusStore;
    let other: (() => StatusStore) | undefined;
    let cleanup: (() => Promise<void>) | undefined;
    const base = { uploadId: 'up1', eventId: 'upload-up1' };

    beforeEach(async () => {
      ({ store, other, cleanup } = await factory());
    });
    afterEach(async () => {
      await store.close();
      await cleanup?.();
    });

    it('claim: a request run takes kinds over (keeping the earlier run as previous), all or none, once', async () => {
      await store.update({ ...base, kind: 'fingerprint', patch: { state: 'done' } });
      await store.update({ ...base, kind: 'video', patch: { state: 'done', finishedAt: 'T1', result: { options: { frames: 4 } } } });
      await store.update({ ...base, kind: 'generate', patch: { state: 'processing' } });
      const claim = { uploadId: 'up1', uploadEventId: base.eventId, runId: 'process-a', lane: 'high' as const };
      expect(await store.claim({ ...claim, kinds: ['video', 'generate'] })).toEqual(['generate']);
      expect((await store.get('up1'))!.jobs.video.state).toBe('done'); // none claimed
      expect(await store.claim({ ...claim, kinds: ['video'] })).toEqual([]);
      expect(await store.claim({ ...claim, kinds: ['video'] })).toEqual([]); // again: nothing changes
      let s = (await store.get('up1'))!;
      expect(s.eventId).toBe(base.eventId);
      expect(s.jobs.video).toMatchObject({ state: 'queued', lane: 'high', attempts: 0, runId: 'process-a', previous: { runId: base.eventId, state: 'done', finishedAt: 'T1', options: { frames: 4 } } });
      expect(s.jobs.fingerprint.state).toBe('done');
      // The upload's own run of video is over: its late updates change nothing; the request's do.
      await store.update({ ...base, kind: 'video', patch: { state: 'failed' } });
      await store.update({ uploadId: 'up1', eventId: 'process-a', kind: 'video', request: true, patch: { state: 'processing' } });
      await store.update({ ...base, kind: 'generate', patch: { state: 'done' } });
      s = (await store.get('up1'))!;
      expect(s.jobs.video).toMatchObject({ state: 'processing', runId: 'process-a' });
      expect(s.jobs.generate.state).toBe('done');
      expect(s.state).toBe('processing');
      // Another request's claim waits while this run is not finished; a stale request's update is ignored.
      expect(await store.claim({ ...claim, runId: 'process-b', kinds: ['video'] })).toEqual(['video']);
      await store.update({ uploadId: 'up1', eventId: 'process-b', kind: 'video', request: true, patch: { state: 'done' } });
      expect((await store.get('up1'))!.jobs.video.runId).toBe('process-a');
      // A claim on an upload without status creates it under the upload's event.
      expect(await store.claim({ ...claim, uploadId: 'up2', uploadEventId: 'upload-up2', kinds: ['documents'] })).toEqual([]);
      expect((await store.get('up2'))!).toMatchObject({ eventId: 'upload-up2', jobs: { documents: { state: 'queued', runId: 'process-a' } } });
    });

    it('returns null for an unknown upload', async () => {
      expect(await store.get('nope')).toBeNull();
    });

    it('plan records queued for the kinds not yet recorded, and leaves the others alone', async () => {
      await store.update({ ...base, kind: 'fingerprint', patch: { state: 'done', result: { sha256: 'ab' } } });
      const planned = await store.plan('up1', base.eventId, ['fingerprint', 'video', 'generate']);
      expect(planned!.state).toBe('queued');
      expect(planned!.jobs.fingerprint).toMatchObject({ state: 'done', result: { sha256: 'ab' } });
      expect(planned!.jobs.video).toMatchObject({ state: 'queued', attempts: 0 });
      await store.update({ ...base, kind: 'video', patch: { state: 'processing' } });
      await store.plan('up1', base.eventId, ['fingerprint', 'video', 'generate']); // again: nothing changes
      const got = (await store.get('up1'))!;
      expect(got.jobs.video.state).toBe('processing');
      expect(Object.keys(got.jobs).sort()).toEqual(['fingerprint', 'generate', 'video']);
      expect(await store.plan('nobody', 'upload-nobody', [])).toBeNull();
    });

    it('forgets a removed upload; removing an unknown one is not an error', async () => {
      await store.update({ ...base, kind: 'fingerprint', patch: { state: 'queued' } });
      await store.remove('up1');
      expect(await store.get('up1')).toBeNull();
      await store.remove('nope');
      await store.update({ ...base, kind: 'fingerprint', patch: { state: 'processing' } });
      expect((await store.get('up1'))!.jobs.fingerprint.state).toBe('processing');
    });

    it('prune keeps a status that just changed', async () => {
      await store.update({ ...base, kind: 'fingerprint', patch: { state: 'queued' } });
      expect(await store.prune()).toBe(0);
      expect(await store.get('up1')).not.toBeNull();
    });

    it('records each kind and aggregates the state', async () => {
      await store.update({ ...base, kind: 'fingerprint', patch: { state: 'queued', lane: 'high' } });
      await store.update({ ...base, kind: 'thumbnail', patch: { state: 'skipped', reason: 'not a video' } });
      expect((await store.get('up1'))!.state).toBe('queued');
      await store.update({ ...base, kind: 'fingerprint', patch: { state: 'processing', attempts: 1 } });
      expect((await store.get('up1'))!.state).toBe('processing');
      const done = await store.update({ ...base, kind: 'fingerprint', patch: { state: 'done', result: { sha256: 'ab' }, outputLocation: null } });
      expect(done.state).toBe('done');
      const got = (await store.get('up1'))!;
      expect(got.jobs.fingerprint).toMatchObject({ kind: 'fingerprint', state: 'done', attempts: 1, lane: 'high', result: { sha256: 'ab' } });
      expect(got.jobs.thumbnail).toMatchObject({ state: 'skipped', reason: 'not a video' });
    });

    it('failed wins the aggregate and carries the reason', async () => {
      await store.update({ ...base, kind: 'a', patch: { state: 'done' } });
      await store.update({ ...base, kind: 'b', patch: { state: 'failed', reason: 'OBJECT_NOT_FOUND: gone', code: 'OBJECT_NOT_FOUND' } });
      const s = (await store.get('up1'))!;
      expect(s.state).toBe('failed');
      expect(s.reason).toBe('b: OBJECT_NOT_FOUND: gone');
    });

    it('a terminal job never changes again (one effect per event)', async () => {
      await store.update({ ...base, kind: 'fingerprint', patch: { state: 'done', result: { n: 1 } } });
      const after = await store.update({ ...base, kind: 'fingerprint', patch: { state: 'processing', result: { n: 2 } } });
      expect(after.jobs.fingerprint).toMatchObject({ state: 'done', result: { n: 1 } });
      expect((await store.get('up1'))!.jobs.fingerprint.state).toBe('done');
    });

    it('notifies subscribers of every change, and stops after unsubscribe', async () => {
      const seen: string[] = [];
      const unsubscribe = await store.subscribe('up1', (s) => seen.push(s.jobs.fingerprint?.state ?? '?'));
      await store.update({ ...base, kind: 'fingerprint', patch: { state: 'queued' } });
      await store.update({ ...base, kind: 'fingerprint', patch: { state: 'processing' } });
      await store.update({ ...base, kind: 'fingerprint', patch: { state: 'done' } });
      await waitUntil(() => seen.length === 3);
      expect(seen).toEqual(['queued', 'processing', 'done']);
      await unsubscribe();
      await store.update({ ...base, uploadId: 'up1', kind: 'other', patch: { state: 'queued' } });
      await new Promise((r) => setTimeout(r, 50));
      expect(seen).toHaveLength(3);
    });

    it('concurrent updates of different kinds are all kept', async () => {
      const kinds = Array.from({ length: 12 }, (_, i) => `k${i}`);
      const stores = other ? [store, other(), other()] : [store];
      await Promise.all(kinds.map((kind, i) => stores[i % stores.length].update({ ...base, kind, patch: { state: 'done' } })));
      const s = (await store.get('up1'))!;
      expect(Object.keys(s.jobs).sort()).toEqual([...kinds].sort());
      expect(s.state).toBe('done');
      for (const extra of stores.slice(1)) await extra.close();
    });

    it('a subscriber on another node sees changes', async () => {
      if (!other) return;
      const reader = other();
      const seen: string[] = [];
      await reader.subscribe('up1', (s) => seen.push(s.state));
      await store.update({ ...base, kind: 'fingerprint', patch: { state: 'done' } });
      await waitUntil(() => seen.length === 1);
      expect(seen).toEqual(['done']);
      expect((await reader.get('up1'))!.state).toBe('done');
      await reader.close();
    });
  });
}

async function waitUntil(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}
