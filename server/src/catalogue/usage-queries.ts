import { sql, type Kysely } from 'kysely';
import type { CatalogueDatabase } from './schema.js';
import type { StorageClass, TenantUsage, Usage, UsageFigures } from './types.js';

type Db = Kysely<CatalogueDatabase>;

const n = (v: unknown): number => Number(v ?? 0);

/**
 * What an owner (or a tenant) stores. Files and their logical bytes count every version; stored bytes
 * count each distinct object the scope's versions point at once, so deduplicated content counts once.
 * The breakdowns by media type and storage class are of the files' current versions.
 */
export async function usageOf(db: Db, scope: { tenant: string; owner?: string }): Promise<Usage> {
  let files = db.selectFrom('files').where('tenant', '=', scope.tenant);
  if (scope.owner !== undefined) files = files.where('owner', '=', scope.owner);
  const scopedVersions = () => {
    let q = db.selectFrom('file_versions').innerJoin('files', 'files.id', 'file_versions.file_id').where('files.tenant', '=', scope.tenant);
    if (scope.owner !== undefined) q = q.where('files.owner', '=', scope.owner);
    return q;
  };
  const [count, logical, stored, byType, byClass] = await Promise.all([
    files.select((eb) => eb.fn.countAll().as('files')).executeTakeFirst(),
    scopedVersions().select(sql<string>`coalesce(sum(file_versions.size), 0)`.as('bytes')).executeTakeFirst(),
    db
      .selectFrom('objects')
      .select(sql<string>`coalesce(sum(objects.size), 0)`.as('bytes'))
      .where('objects.id', 'in', scopedVersions().select('file_versions.object_id'))
      .executeTakeFirst(),
    files
      .select(['media_type', (eb) => eb.fn.countAll().as('files'), sql<string>`coalesce(sum(size), 0)`.as('bytes')])
      .groupBy('media_type')
      .execute(),
    files
      .select(['storage_class', (eb) => eb.fn.countAll().as('files'), sql<string>`coalesce(sum(size), 0)`.as('bytes')])
      .groupBy('storage_class')
      .execute(),
  ]);
  const byMediaType: Record<string, UsageFigures> = {};
  for (const row of byType) byMediaType[row.media_type] = { files: n(row.files), bytes: n(row.bytes) };
  const byStorageClass: Record<StorageClass, UsageFigures> = { standard: { files: 0, bytes: 0 }, cold: { files: 0, bytes: 0 } };
  for (const row of byClass) byStorageClass[row.storage_class as StorageClass] = { files: n(row.files), bytes: n(row.bytes) };
  const bytesStored = n(stored?.bytes);
  return {
    files: n(count?.files),
    bytesStored,
    bytesDeduplicated: Math.max(0, n(logical?.bytes) - bytesStored),
    byMediaType,
    byStorageClass,
  };
}

/** Files and stored bytes per tenant: the `limit` largest by bytes, the rest summed. */
export async function tenantUsage(db: Db, limit: number): Promise<TenantUsage> {
  const [objects, files] = await Promise.all([
    db.selectFrom('objects').select(['tenant', sql<string>`coalesce(sum(size), 0)`.as('bytes')]).groupBy('tenant').execute(),
    db.selectFrom('files').select(['tenant', (eb) => eb.fn.countAll().as('files')]).groupBy('tenant').execute(),
  ]);
  const all = new Map<string, UsageFigures>();
  for (const row of objects) all.set(row.tenant, { files: 0, bytes: n(row.bytes) });
  for (const row of files) all.set(row.tenant, { files: n(row.files), bytes: all.get(row.tenant)?.bytes ?? 0 });
  const sorted = [...all].sort((a, b) => b[1].bytes - a[1].bytes || a[0].localeCompare(b[0]));
  const top = sorted.slice(0, Math.max(0, limit)).map(([tenant, u]) => ({ tenant, ...u }));
  const other = { tenants: 0, files: 0, bytes: 0 };
  for (const [, u] of sorted.slice(Math.max(0, limit))) {
    other.tenants++;
    other.files += u.files;
    other.bytes += u.bytes;
  }
  return { top, other };
}
