/**
 * The ResultStore contract on files, and on a real S3-compatible server (Swift's s3api, or
 * `TEST_S3_ENDPOINT`) with the runtime's own S3 client.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3, tempDir, type S3Handle } from '@tus-edge/testkit';
import { createS3Client } from '../common/s3-client.js';
import { createResultStores, resultsDir } from './choose.js';
import { FileResultStore } from './file.js';
import { resultStoreContract } from './results.contract.js';
import { S3ResultStore, type ResultsS3API } from './s3.js';
import { contentTypeOf } from './types.js';

resultStoreContract('FileResultStore', async () => {
  const dir = await tempDir();
  return { store: new FileResultStore(dir), cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
});

describe('on S3', () => {
  let s3: S3Handle;
  beforeAll(async () => {
    s3 = await startS3();
  }, 60_000);
  afterAll(async () => {
    await s3?.stop();
  });
  const runtimeClient = () =>
    createS3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
  resultStoreContract('S3ResultStore (Swift s3api, the runtime S3 client)', async () => ({ store: new S3ResultStore(runtimeClient(), s3.bucket) }));
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
