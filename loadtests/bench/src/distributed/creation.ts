/**
 * Section 3, upload creation rate: `POST /files` with `Upload-Length: 1 MiB` and a small
 * `Upload-Metadata`, at concurrency 1 and 32, each for a fixed time, against our server and stock
 * @tus/server on the same storage (S3 + Redis vs @tus/s3-store; and, for reference, the embedded file
 * storages), beside the limit on S3: the two S3 calls every creation makes (CreateMultipartUpload,
 * then PutObject of the `.info`) sent straight from the SDK. The uploads are left unfinished; the
 * services are thrown away at the end.
 */
import { randomUUID } from 'node:crypto';
import type { S3 } from '@aws-sdk/client-s3';
import { f0, f1, MiB, percentile, ratio, table } from '../stats.js';
import { type HttpClient, SMALL_METADATA, tusCreate } from './client.js';

export const CREATE_CONCURRENCIES = [1, 32] as const;

type Role = 'ours' | 'stock' | 'direct';

export interface CreateTarget {
  id: string;
  label: string;
  /** Rows are compared with the stock row of the same storage. */
  storage: 's3' | 'file';
  role: Role;
  /** One timed creation; resolves with its latency in ms. */
  create(): Promise<number>;
}

/** A tus server as a creation target. */
export function tusTarget(http: HttpClient, endpoint: string, t: Omit<CreateTarget, 'create'>): CreateTarget {
  return { ...t, create: async () => (await tusCreate(http, endpoint, MiB, SMALL_METADATA)).ms };
}

/** The S3 calls of one @tus/s3-store creation, straight from the SDK: the limit of any tus server on this S3. */
export function directS3Target(client: S3, bucket: string): CreateTarget {
  return {
    id: 'direct-s3', label: 'direct SDK: CreateMultipartUpload + PutObject .info', storage: 's3', role: 'direct',
    async create() {
      const key = `create-${randomUUID()}`;
      const t0 = performance.now();
      const { UploadId } = await client.createMultipartUpload({ Bucket: bucket, Key: key, Metadata: { 'tus-version': '1.0.0' } });
      await client.putObject({
        Bucket: bucket, Key: `${key}.info`, Body: JSON.stringify({ id: key, size: MiB, offset: 0, metadata: { filename: 'bench.bin' } }),
        Metadata: { 'upload-id': UploadId ?? '', 'tus-version': '1.0.0' },
      });
      return performance.now() - t0;
    },
  };
}

export interface CreateSample {
  perSecond: number;
  /** Request latencies, ms. */
  ms: number[];
  errors: number;
  firstError?: string;
}

export interface CreateResults {
  seconds: number;
  /** `${targetId}@${concurrency}` → sample */
  samples: Map<string, CreateSample>;
  labels: Map<string, { label: string; storage: 's3' | 'file'; role: Role }>;
}

/** Creates from `concurrency` workers until `seconds` have passed; the rate counts finished creations. */
async function createFor(target: CreateTarget, concurrency: number, seconds: number): Promise<CreateSample> {
  const ms: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline && errors < 100) {
        try {
          ms.push(await target.create());
        } catch (err) {
          errors++;
          firstError ??= (err as Error).message;
        }
      }
    }),
  );
  return { perSecond: ms.length / ((performance.now() - t0) / 1000), ms, errors, firstError };
}

/** Runs section 3 for each target: a 1 s warm-up at concurrency 32, then each concurrency. */
export async function runCreateSection(targets: CreateTarget[], results: CreateResults, log: (msg: string) => void): Promise<void> {
  for (const t of targets) {
    results.labels.set(t.id, { label: t.label, storage: t.storage, role: t.role });
    await createFor(t, 32, 1);
    for (const c of CREATE_CONCURRENCIES) {
      const s = await createFor(t, c, results.seconds);
      results.samples.set(`${t.id}@${c}`, s);
      log(`create ${t.id} c=${c}: ${f0(s.perSecond)} POST/s, p50/p99 ${f1(percentile(s.ms, 50))}/${f1(percentile(s.ms, 99))} ms` +
        `${s.errors ? `, ${s.errors} errors (${s.firstError})` : ''}`);
    }
  }
}

/** The section-3 table. */
export function renderCreate(results: CreateResults): string {
  const header = ['server', 'concurrency', 'creations/s', 'p50 / p99 ms', 'vs stock, same storage', 'vs direct S3 calls', 'errors'];
  const rows: string[][] = [];
  const find = (storage: string, role: Role) => [...results.labels].find(([, v]) => v.storage === storage && v.role === role)?.[0];
  for (const [id, { label, storage, role }] of results.labels) {
    const stockId = find(storage, 'stock');
    const directId = find(storage, 'direct');
    for (const c of CREATE_CONCURRENCIES) {
      const s = results.samples.get(`${id}@${c}`);
      const stock = stockId ? results.samples.get(`${stockId}@${c}`) : undefined;
      const direct = directId ? results.samples.get(`${directId}@${c}`) : undefined;
      rows.push([
        label, String(c),
        s ? f0(s.perSecond) : 'n/a',
        s?.ms.length ? `${f1(percentile(s.ms, 50))} / ${f1(percentile(s.ms, 99))}` : 'n/a',
        s && stock && role !== 'stock' && role !== 'direct' ? ratio(s.perSecond, stock.perSecond) : '',
        s && direct && role !== 'direct' ? ratio(s.perSecond, direct.perSecond) : role === 'direct' ? 'the limit' : '',
        s ? (s.errors ? `${s.errors}: ${s.firstError?.slice(0, 60)}` : '0') : '',
      ]);
    }
  }
  return [
    `3. Upload creation rate (POST /files, Upload-Length 1 MiB, small Upload-Metadata; ${results.seconds} s per cell after a 1 s warm-up)`,
    table([header, ...rows]),
    'Read against: stock on the same storage, and on S3 the two S3 calls every creation makes (ours also writes its upload ' +
      'record to Redis). File rows for reference (FIELD-NOTES, quiet box: stock + file-store 665/s sequential, 1388/s at 32).',
  ].join('\n');
}
