import type { CompletedPart, S3 } from '@aws-sdk/client-s3';

/** The S3 calls concatenation makes: nothing else of the SDK reaches it. */
export type ConcatS3API = Pick<S3, 'headObject' | 'uploadPart' | 'uploadPartCopy' | 'getObject' | 'completeMultipartUpload'>;

/** S3's smallest part (except the last) and largest range one UploadPartCopy may copy. */
const MIN_PART = 5 * 1024 * 1024;
const MAX_COPY = 5 * 1024 ** 3;

/**
 * Builds object `targetKey` (multipart upload `uploadId`, already created) from the finished objects
 * `sourceKeys`, in order. Ranges of at least 5 MiB are copied inside S3 with UploadPartCopy, so their
 * bytes never reach this process; only runs of short pieces (which S3 cannot copy as a part on their
 * own) are read and re-uploaded, at most 5 MiB at a time.
 */
export async function concatenateObjects(
  client: ConcatS3API, bucket: string, targetKey: string, uploadId: string, sourceKeys: string[], uniformPartSize?: number,
): Promise<void> {
  const sizes = await Promise.all(
    sourceKeys.map(async (key) => (await client.headObject({ Bucket: bucket, Key: key })).ContentLength ?? 0),
  );
  if (uniformPartSize) return concatenateUniform(client, bucket, targetKey, uploadId, sourceKeys, sizes, uniformPartSize);
  const parts: CompletedPart[] = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    const res = await client.uploadPart({
      Bucket: bucket, Key: targetKey, UploadId: uploadId, PartNumber: parts.length + 1, Body: Buffer.concat(pending),
    });
    parts.push({ ETag: res.ETag, PartNumber: parts.length + 1 });
    pending = [];
    pendingBytes = 0;
  };
  for (const [i, key] of sourceKeys.entries()) {
    const size = sizes[i];
    let pos = 0;
    while (pos < size) {
      const left = size - pos;
      if (pendingBytes === 0 && left >= MIN_PART) {
        // Leave either nothing or a copyable remainder: a short tail after a 5 GiB copy is buffered.
        const len = Math.min(left, MAX_COPY);
        const res = await client.uploadPartCopy({
          Bucket: bucket, Key: targetKey, UploadId: uploadId, PartNumber: parts.length + 1,
          CopySource: `${bucket}/${encodeURIComponent(key)}`, CopySourceRange: `bytes=${pos}-${pos + len - 1}`,
        });
        parts.push({ ETag: res.CopyPartResult?.ETag, PartNumber: parts.length + 1 });
        pos += len;
        continue;
      }
      const take = Math.min(left, MIN_PART - pendingBytes);
      const res = await client.getObject({ Bucket: bucket, Key: key, Range: `bytes=${pos}-${pos + take - 1}` });
      pending.push(Buffer.from(await res.Body!.transformToByteArray()));
      pendingBytes += take;
      pos += take;
      if (pendingBytes >= MIN_PART) await flush();
    }
  }
  if (pendingBytes > 0 || parts.length === 0) await flush();
  await client.completeMultipartUpload({ Bucket: bucket, Key: targetKey, UploadId: uploadId, MultipartUpload: { Parts: parts } });
}

/**
 * The same with every part but the last of `partSize` bytes (stores such as Cloudflare R2): a part that
 * lies inside one source is copied inside S3 (UploadPartCopy with a range); a part that spans sources
 * is read from them and uploaded, one part in memory at a time.
 */
async function concatenateUniform(
  client: ConcatS3API, bucket: string, targetKey: string, uploadId: string, sourceKeys: string[], sizes: number[], partSize: number,
): Promise<void> {
  const starts: number[] = [];
  let total = 0;
  for (const size of sizes) {
    starts.push(total);
    total += size;
  }
  const parts: CompletedPart[] = [];
  for (let from = 0; from < total || parts.length === 0; from += partSize) {
    const to = Math.min(total, from + partSize); // exclusive
    const PartNumber = parts.length + 1;
    const target = { Bucket: bucket, Key: targetKey, UploadId: uploadId, PartNumber };
    const inside = sourceKeys.findIndex((_, i) => starts[i] <= from && to <= starts[i] + sizes[i] && sizes[i] > 0);
    if (inside >= 0 && to - from >= MIN_PART) {
      const at = from - starts[inside];
      const res = await client.uploadPartCopy({
        ...target, CopySource: `${bucket}/${encodeURIComponent(sourceKeys[inside])}`, CopySourceRange: `bytes=${at}-${at + to - from - 1}`,
      });
      parts.push({ ETag: res.CopyPartResult?.ETag, PartNumber });
      continue;
    }
    const pieces: Buffer[] = [];
    for (const [i, key] of sourceKeys.entries()) {
      const a = Math.max(from, starts[i]);
      const b = Math.min(to, starts[i] + sizes[i]);
      if (a >= b) continue;
      const res = await client.getObject({ Bucket: bucket, Key: key, Range: `bytes=${a - starts[i]}-${b - starts[i] - 1}` });
      pieces.push(Buffer.from(await res.Body!.transformToByteArray()));
    }
    const res = await client.uploadPart({ ...target, Body: Buffer.concat(pieces) });
    parts.push({ ETag: res.ETag, PartNumber });
  }
  await client.completeMultipartUpload({ Bucket: bucket, Key: targetKey, UploadId: uploadId, MultipartUpload: { Parts: parts } });
}
