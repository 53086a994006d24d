import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3, type S3Handle } from '../../testing/services.js';
import { storageContract } from '../storage.contract.js';
import { createS3Client } from './client.js';
import { S3Storage } from './s3-storage.js';

let s3: S3Handle;
beforeAll(async () => {
  s3 = await startS3();
}, 90_000);
afterAll(async () => {
  await s3?.stop();
});

function makeStorage(): S3Storage {
  const client = createS3Client({
    bucket: s3.bucket, endpoint: s3.endpoint, region: s3.region, forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, partSize: 5 * 1024 * 1024, partConcurrency: 4,
  });
  return new S3Storage({ client, bucket: s3.bucket, partSize: 5 * 1024 * 1024, partConcurrency: 4, maxUploadSize: 1024 ** 3 });
}

storageContract('S3Storage (real S3 server)', async () => makeStorage());

describe('S3Storage', () => {
  async function keysOf(id: string): Promise<string[]> {
    const storage = makeStorage();
    const client = (storage as unknown as { client: ReturnType<typeof createS3Client> }).client;
    const listed = await client.listObjectsV2({ Bucket: s3.bucket, Prefix: id });
    return (listed.Contents ?? []).map((o) => o.Key!).sort();
  }

  it('removes every object of an upload, including the short tail stock @tus/s3-store leaves behind', async () => {
    const s = makeStorage();
    const id = `rm${randomBytes(6).toString('hex')}`;
    await s.create(id, { length: 10_000_000 });
    await s.write(id, 0, Readable.from([randomBytes(1000)]), { limit: 10_000_000 });
    expect(await keysOf(id)).toEqual([id + '.info', id + '.part']);
    await s.remove(id);
    expect(await keysOf(id)).toEqual([]);
    expect(await s.offset(id)).toBeUndefined();
  });

  it('removes a finished upload', async () => {
    const s = makeStorage();
    const id = `rmdone${randomBytes(6).toString('hex')}`;
    await s.create(id, { length: 10 });
    await s.write(id, 0, Readable.from([Buffer.from('0123456789')]), { limit: 10 });
    await s.complete(id, 10);
    expect(await keysOf(id)).toEqual([id, id + '.info']);
    await s.remove(id);
    expect(await keysOf(id)).toEqual([]);
  });

  it('reports a missing bucket as unavailable, not as a missing upload', async () => {
    const client = createS3Client({
      bucket: 'no-such-bucket-here', endpoint: s3.endpoint, region: s3.region, forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, partSize: 5 * 1024 * 1024, partConcurrency: 1,
    });
    const s = new S3Storage({ client, bucket: 'no-such-bucket-here', partSize: 5 * 1024 * 1024, partConcurrency: 1, maxUploadSize: 1024 });
    await expect(s.check()).rejects.toThrow();
    await expect(s.offset('abc')).rejects.toThrow();
  });
});
