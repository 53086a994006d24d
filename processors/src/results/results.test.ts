/**
 * The ResultStore contract on files. (The S3 store runs the same contract against a real S3-compatible
 * server in server/src/api/results.test.ts, where the test S3 service lives.)
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../testing/services.js';
import { createResultStores, resultsDir } from './choose.js';
import { FileResultStore } from './file.js';
import { resultStoreContract } from './results.contract.js';
import { S3ResultStore, type ResultsS3API } from './s3.js';
import { contentTypeOf } from './types.js';

resultStoreContract('FileResultStore', async () => {
  const dir = await tempDir();
  return { store: new FileResultStore(dir), cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
});

describe('FileResultStore', () => {
  it('writes atomically: no temporary file is left or listed', async () => {
    const dir = await tempDir();
    try {
      const store = new FileResultStore(dir);
      await Promise.all(Array.from({ length: 10 }, (_, i) => store.put('u1', 'same.txt', Buffer.from(String(i).repeat(1000)))));
      expect(await fs.readdir(path.join(dir, 'u1'))).toEqual(['same.txt']);
      expect((await store.head('u1', 'same.txt'))!.size).toBe(1000);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('choosing the result store', () => {
  it('files for file locations, the upload bucket for S3 locations (one store per bucket)', () => {
    let clients = 0;
    const choose = createResultStores({ dataDir: '/data' }, () => {
      clients++;
      return {} as ResultsS3API;
    });
    const file = choose({ kind: 'file', path: '/data/uploads/x' });
    expect(file).toBeInstanceOf(FileResultStore);
    expect(file.locationOf('x')).toBe(`file://${resultsDir({ dataDir: '/data' })}/x/`);
    expect(clients).toBe(0);
    const a = choose({ kind: 's3', bucket: 'a', key: 'x' });
    expect(a).toBeInstanceOf(S3ResultStore);
    expect(a.locationOf('x')).toBe('s3://a/results/x/');
    expect(choose({ kind: 's3', bucket: 'a', key: 'y' })).toBe(a);
    expect(choose({ kind: 's3', bucket: 'b', key: 'y' }).locationOf('y')).toBe('s3://b/results/y/');
    expect(clients).toBe(1);
  });

  it('content types come from the name', () => {
    expect(contentTypeOf('video-720p.mp4')).toBe('video/mp4');
    expect(contentTypeOf('poster.jpg')).toBe('image/jpeg');
    expect(contentTypeOf('x.bin')).toBe('application/octet-stream');
  });
});
