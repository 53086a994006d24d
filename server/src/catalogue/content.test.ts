/**
 * The content follower against a real SQLite catalogue and a real file status store: the fingerprint's
 * sha256 and type reach the catalogue (deduplicating and deleting the freed bytes), the summary is
 * recorded once every job is over, the sweep applies what no subscription carried, and a file that
 * never gets a status is recorded as `unknown` after a while instead of being looked at forever.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStatusStore } from '@tus-edge/processors';
import { tempDir } from '@tus-edge/testkit';
import { createLogger } from '../ops/logger.js';
import type { UploadStorage } from '../storage/types.js';
import { ContentFollower, reuseHint, summaryOf } from './content.js';
import { createCatalogue } from './index.js';
import type { Catalogue, IngestInput } from './types.js';

let dir: string;
let catalogue: Catalogue;
let status: FileStatusStore;
let removed: string[];
let follower: ContentFollower;
const SHA = 'c'.repeat(64);

beforeEach(async () => {
  dir = await tempDir('content-follower-');
  catalogue = createCatalogue({ kind: 'sqlite', file: path.join(dir, 'catalogue.db') });
  await catalogue.migrate();
  status = new FileStatusStore(path.join(dir, 'processing'));
  removed = [];
  const storage = { remove: async (id: string) => void removed.push(id) } as unknown as UploadStorage;
  follower = new ContentFollower({ catalogue, status, storage, logger: createLogger('silent') });
});
afterEach(async () => {
  await follower.close();
  await status.close();
  await catalogue.close();
  await fs.rm(dir, { recursive: true, force: true });
});

const input = (uploadId: string, at = new Date().toISOString(), more: Partial<IngestInput> = {}): IngestInput => ({
  uploadId, tenant: '', owner: '', name: `${uploadId}.pdf`, key: null, mediaType: null, size: 10, sha256: null,
  metadata: {}, tags: [], createdAt: at, finishedAt: at, ...more,
});
const job = (uploadId: string, kind: string, patch: Record<string, unknown>) =>
  status.update({ uploadId, eventId: `upload-${uploadId}`, kind, patch });

describe('ContentFollower', () => {
  it('carries the fingerprint into the catalogue (late dedup deletes the freed bytes), then the summary once every job is over', async () => {
    await catalogue.ingest(input('first', undefined, { sha256: SHA }));
    await catalogue.ingest(input('second'));
    await status.plan('second', 'upload-second', ['fingerprint', 'documents']);
    await follower.follow('second');
    await job('second', 'fingerprint', { state: 'done', result: { sha256: SHA, mime: 'application/pdf' } });
    await expect.poll(async () => (await catalogue.byUpload('second'))?.file.sha256).toBe(SHA);
    const entry = (await catalogue.byUpload('second'))!;
    expect(entry.file.mediaType).toBe('application/pdf');
    expect(entry.object.location).toBe('first');
    expect(removed).toEqual(['second']);
    expect(entry.file.processing).toBeNull(); // documents still queued
    await job('second', 'documents', { state: 'skipped', reason: 'not applicable' });
    await expect.poll(async () => (await catalogue.byUpload('second'))?.file.processing).toEqual({
      state: 'done', jobs: { fingerprint: { state: 'done' }, documents: { state: 'skipped', reason: 'not applicable' } },
    });
  });

  it('the sweep applies what no subscription carried; a file with no status for an hour is recorded as unknown', async () => {
    await catalogue.ingest(input('late'));
    await catalogue.ingest(input('never', new Date(Date.now() - 2 * 3_600_000).toISOString()));
    await job('late', 'fingerprint', { state: 'done', result: { sha256: SHA, mime: 'text/plain', reusedFrom: undefined } });
    expect(await follower.sweep(new Date())).toBe(2);
    expect((await catalogue.byUpload('late'))?.file).toMatchObject({ sha256: SHA, mediaType: 'text/plain', processing: { state: 'done' } });
    expect((await catalogue.byUpload('never'))?.file.processing).toEqual({ state: 'unknown' });
    expect(await catalogue.unprocessed(new Date().toISOString(), 10)).toEqual([]);
  });

  it('summaries say which jobs were reused; the reuse hint names the stored object for a known sha256 only', async () => {
    expect(summaryOf({ uploadId: 'u', eventId: 'e', state: 'done', updatedAt: '', jobs: { video: { kind: 'video', state: 'done', attempts: 1, reusedFrom: 'o', updatedAt: '' } } }))
      .toEqual({ state: 'done', jobs: { video: { state: 'done', reusedFrom: 'o' } } });
    await catalogue.ingest(input('orig', undefined, { sha256: SHA }));
    const storage = { location: (id: string) => ({ kind: 'file' as const, path: `/data/${id}` }) };
    const record = { id: 'dup', size: 10, metadata: {}, createdAt: '', updatedAt: '', sha256: SHA };
    expect(await reuseHint(catalogue, storage, record)).toEqual({ location: { kind: 'file', path: '/data/orig' }, reuseFrom: 'orig' });
    expect(await reuseHint(catalogue, storage, { ...record, sha256: undefined })).toBeUndefined();
    expect(await reuseHint(catalogue, storage, { ...record, tenant: 'other' })).toBeUndefined();
    expect(await reuseHint(catalogue, storage, { ...record, id: 'orig' })).toBeUndefined();
  });
});
