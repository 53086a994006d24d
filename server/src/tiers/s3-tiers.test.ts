import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '@tus-edge/processors';
import { startS3, type S3Handle } from '@tus-edge/testkit';
import { Readable } from 'node:stream';
import { S3Storage } from '../storage/s3/s3-storage.js';
import { S3Tiers } from './s3-tiers.js';
import { tiersContract } from './tiers.contract.js';

let s3: S3Handle;
beforeAll(async () => {
  s3 = await startS3({ timeoutMs: 90_000 });
}, 120_000);
afterAll(async () => {
  await s3?.stop();
});

function make(cold: { prefix: string; storageClass?: string; singleCopyMax?: number; copyPartSize?: number }) {
  const client = createS3Client({
    endpoint: s3.endpoint, region: s3.region, forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  const storage = new S3Storage({ client, bucket: s3.bucket, partSize: 5 * 1024 * 1024, partConcurrency: 2, maxUploadSize: 1024 ** 3 });
  return { client, storage, tiers: new S3Tiers({ client, bucket: s3.bucket, storage, ...cold }) };
}

tiersContract('S3Tiers with a cold prefix (real S3 server)', async () => make({ prefix: 'cold/' }));
// The path of objects above CopyObject's 5 GiB, with the threshold lowered: copied in 5 MiB parts.
tiersContract('S3Tiers copying in parts (real S3 server)', async () => make({ prefix: 'cold2/', singleCopyMax: 100_000, copyPartSize: 5 * 1024 * 1024 }));

describe('S3Tiers', () => {
  it('the cold copy is <prefix><key>, made server side; the standard object is gone after dropStandard', async () => {
    const { client, storage, tiers } = make({ prefix: 'cold/' });
    await storage.create('s3tier1', { length: 5 });
    await storage.write('s3tier1', 0, Readable.from([Buffer.from('hello')]), { limit: 5 });
    await storage.complete('s3tier1', 5);
    await tiers.copyToCold('s3tier1', 5);
    await tiers.dropStandard('s3tier1');
    const keys = (await client.listObjectsV2({ Bucket: s3.bucket, Prefix: 'cold/' })).Contents?.map((o) => o.Key);
    expect(keys).toContain('cold/s3tier1');
    await expect(client.headObject({ Bucket: s3.bucket, Key: 's3tier1' })).rejects.toThrow();
    const url = await tiers.presign('s3tier1', 'cold', { contentType: 'text/plain', contentDisposition: 'attachment; filename="h.txt"', cacheControl: 'private, max-age=60, immutable', expiresInSeconds: 60 });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="h.txt"');
    expect(await res.text()).toBe('hello');
  });

  it('a multipart copy of 12 MiB (three parts) reads back whole and by range; a copy a killed run left unfinished is aborted', async () => {
    const { client, storage, tiers } = make({ prefix: 'cold3/', singleCopyMax: 1, copyPartSize: 5 * 1024 * 1024 });
    const data = (await import('node:crypto')).randomBytes(12 * 1024 * 1024 + 7);
    await storage.create('s3tier3', { length: data.length });
    await storage.write('s3tier3', 0, Readable.from([data]), { limit: data.length });
    await storage.complete('s3tier3', data.length);
    await client.createMultipartUpload({ Bucket: s3.bucket, Key: 'cold3/s3tier3' }); // as a killed copy leaves it
    await tiers.copyToCold('s3tier3', data.length);
    const chunks: Buffer[] = [];
    for await (const c of await tiers.read('s3tier3', 'cold')) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    const left = await client.listMultipartUploads({ Bucket: s3.bucket, Prefix: 'cold3/' });
    expect((left.Uploads ?? []).filter((u) => u.Key === 'cold3/s3tier3')).toEqual([]);
  });

  it('a storage class in place is refused by the test S3 (Swift knows only STANDARD): the copy fails, nothing is lost', async () => {
    const { storage, tiers } = make({ prefix: '', storageClass: 'GLACIER_IR' });
    await storage.create('s3tier2', { length: 3 });
    await storage.write('s3tier2', 0, Readable.from([Buffer.from('abc')]), { limit: 3 });
    await storage.complete('s3tier2', 3);
    await expect(tiers.copyToCold('s3tier2', 3)).rejects.toThrow(/storage class/i);
    expect(await tiers.hasCold('s3tier2', 3)).toBe(false);
    await tiers.dropStandard('s3tier2'); // in place: never removes the only copy
    const chunks: Buffer[] = [];
    for await (const c of await tiers.read('s3tier2', 'standard')) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('abc');
  });
});
