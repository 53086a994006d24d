import { sql, type Kysely, type Transaction } from 'kysely';
import { toFile, toObject, toVersion } from './rows.js';
import type { CatalogueDatabase } from './schema.js';
import { owe } from './pending.js';
import type { CatalogueObject, Dropped, FileVersion, Located, OwnerScope, PendingDelete, Restored } from './types.js';

type Db = Kysely<CatalogueDatabase> | Transaction<CatalogueDatabase>;

/**
 * File versions and the objects behind them, over the catalogue's tables (one typed query layer for
 * SQLite and PostgreSQL). Objects are reference counted: every version row counts once; an object
 * whose count reaches 0 is deleted and its location returned as `freed` (the caller deletes its bytes).
 */

/** The object holding the bytes of the version `uploadId` became; undefined when not catalogued. */
export async function locate(db: Db, uploadId: string): Promise<Located | undefined> {
  const row = await db
    .selectFrom('file_versions')
    .innerJoin('objects', 'objects.id', 'file_versions.object_id')
    .selectAll('objects')
    .select(['file_versions.file_id as file_id', 'file_versions.version as version'])
    .where('file_versions.upload_id', '=', uploadId)
    .executeTakeFirst();
  if (!row) return undefined;
  const { file_id, version, ...object } = row;
  return { fileId: file_id, version: Number(version), object: toObject(object) };
}

/** The tenant's stored object with this content, if any (the dedup lookup at finish). */
export async function findContent(db: Db, tenant: string, sha256: string): Promise<CatalogueObject | undefined> {
  const row = await db.selectFrom('objects').selectAll().where('tenant', '=', tenant).where('sha256', '=', sha256).executeTakeFirst();
  return row && toObject(row);
}

/** Version `n` of a file of `scope`; undefined when the file or the version does not exist. */
export async function versionOf(db: Db, scope: OwnerScope, fileId: string, n: number): Promise<{ version: FileVersion; object: CatalogueObject } | undefined> {
  const row = await db
    .selectFrom('file_versions')
    .innerJoin('files', 'files.id', 'file_versions.file_id')
    .innerJoin('objects', 'objects.id', 'file_versions.object_id')
    .selectAll('file_versions')
    .select(['objects.id as o_id', 'objects.tenant as o_tenant', 'objects.sha256 as o_sha256', 'objects.size as o_size', 'objects.location as o_location',
      'objects.storage_class as o_storage_class', 'objects.refs as o_refs', 'objects.created_at as o_created_at'])
    .where('files.id', '=', fileId).where('files.tenant', '=', scope.tenant).where('files.owner', '=', scope.owner)
    .where('file_versions.version', '=', n)
    .executeTakeFirst();
  if (!row) return undefined;
  const object = toObject({
    id: row.o_id, tenant: row.o_tenant, sha256: row.o_sha256, size: row.o_size, location: row.o_location,
    storage_class: row.o_storage_class, refs: row.o_refs, created_at: row.o_created_at,
  });
  return { version: toVersion(row), object };
}

/**
 * Restores version `n` of a file **as a new version**: the file's history only grows (`n` stays where it
 * is), the new current version points at the same object (one more reference; no byte is copied) and
 * takes `n`'s name, metadata, size and sha256. Its upload id is `<n's upload id>.r<new version>` (the
 * column is unique; tus reads of it are answered from the catalogue). Undefined when there is no such
 * file or version. Run inside a transaction.
 */
export async function restoreVersion(trx: Transaction<CatalogueDatabase>, scope: OwnerScope, fileId: string, n: number): Promise<Restored | undefined> {
  const file = await trx.selectFrom('files').selectAll()
    .where('id', '=', fileId).where('tenant', '=', scope.tenant).where('owner', '=', scope.owner)
    .executeTakeFirst();
  if (!file) return undefined;
  const source = await trx.selectFrom('file_versions').selectAll().where('file_id', '=', fileId).where('version', '=', n).executeTakeFirst();
  if (!source) return undefined;
  const object = await trx.selectFrom('objects').selectAll().where('id', '=', source.object_id).executeTakeFirst();
  if (!object) throw new Error(`version ${n} of ${fileId} points at a missing object ${source.object_id}`);
  const now = new Date().toISOString();
  const version = Number(file.current_version) + 1;
  const uploadId = `${source.upload_id.replace(/\.r\d+$/, '')}.r${version}`;
  const updated = await trx.updateTable('objects').set({ refs: sql`refs + 1` }).where('id', '=', object.id).executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1) throw new Error(`object ${object.id} vanished during the restore`);
  await trx.insertInto('file_versions').values({
    file_id: fileId, version, upload_id: uploadId, object_id: object.id, size: source.size, sha256: source.sha256,
    created_at: now, name: source.name, metadata: source.metadata,
  }).execute();
  await trx.updateTable('files').set({
    name: source.name, size: source.size, sha256: source.sha256, object_id: object.id, upload_id: uploadId,
    storage_class: object.storage_class, metadata: source.metadata, current_version: version, updated_at: now,
    // Summarised again from the restored upload's processing (catalogue/content.ts).
    processing: null,
  }).where('id', '=', fileId).execute();
  const row = (await trx.selectFrom('files').selectAll().where('id', '=', fileId).executeTakeFirst())!;
  const tags = await trx.selectFrom('file_tags').select('tag').where('file_id', '=', fileId).execute();
  const added = (await trx.selectFrom('file_versions').selectAll().where('upload_id', '=', uploadId).executeTakeFirst())!;
  return { file: toFile(row, tags.map((t) => t.tag)), version: toVersion(added) };
}

/**
 * Deletes version rows and releases their objects: each row is one reference; an object left with none
 * is deleted and its location returned (the caller deletes those bytes, and each dropped upload's
 * processing results and status). Run inside a transaction.
 */
async function dropVersions(trx: Transaction<CatalogueDatabase>, fileId: string, versions: number[]): Promise<Dropped> {
  if (versions.length === 0) return { uploads: [], freed: [], pending: [] };
  const file = await trx.selectFrom('files').select(['tenant', 'owner']).where('id', '=', fileId).executeTakeFirst();
  const rows = await trx.selectFrom('file_versions').select(['object_id', 'upload_id', 'charged_bytes']).where('file_id', '=', fileId).where('version', 'in', versions).execute();
  await trx.deleteFrom('file_versions').where('file_id', '=', fileId).where('version', 'in', versions).execute();
  const freed = await release(trx, rows.map((r) => r.object_id));
  // A restored version (`<id>.r<n>`) still shows the processing of upload `<id>`: that one is kept.
  const kept = await trx.selectFrom('file_versions').select('upload_id').where('file_id', '=', fileId).execute();
  const stillShown = new Set(kept.map((k) => k.upload_id.replace(/\.r\d+$/, '')));
  // Its bytes are still stored for the restored version that shows it: the quota charge moves there.
  for (const row of rows) {
    if (!stillShown.has(row.upload_id) || row.charged_bytes === null) continue;
    const heir = kept.map((k) => k.upload_id).filter((u) => u.startsWith(`${row.upload_id}.r`)).sort().pop();
    if (heir) await trx.updateTable('file_versions').set({ charged_bytes: sql`coalesce(charged_bytes, 0) + ${Number(row.charged_bytes)}` }).where('upload_id', '=', heir).execute();
  }
  const pending = pendingOf(file ?? { tenant: '', owner: '' }, freed, rows, (u) => !stillShown.has(u));
  await owe(trx, pending);
  return { uploads: rows.map((r) => r.upload_id).filter((u) => !stillShown.has(u)).sort(), freed, pending };
}

/**
 * Takes one reference per entry of `objectIds` away; objects left with none are deleted and their
 * locations returned (their bytes are to be deleted). Run inside a transaction.
 */
export async function release(trx: Transaction<CatalogueDatabase>, objectIds: readonly string[]): Promise<string[]> {
  const counts = new Map<string, number>();
  for (const id of objectIds) counts.set(id, (counts.get(id) ?? 0) + 1);
  const freed: string[] = [];
  for (const [objectId, n] of counts) {
    await trx.updateTable('objects').set({ refs: sql`refs - ${n}` }).where('id', '=', objectId).execute();
    const object = await trx.selectFrom('objects').select(['refs', 'location']).where('id', '=', objectId).executeTakeFirst();
    if (object && Number(object.refs) <= 0) {
      await trx.deleteFrom('objects').where('id', '=', objectId).execute();
      freed.push(object.location);
    }
  }
  return freed;
}

/** The to-delete entries of removed versions: their freed bytes, and each upload (record, quota charge, and results unless still shown). */
export function pendingOf(
  file: { tenant: string; owner: string },
  freed: readonly string[],
  versions: ReadonlyArray<{ upload_id: string; charged_bytes: number | string | null }>,
  withResults: (uploadId: string) => boolean,
): PendingDelete[] {
  return [
    ...freed.map((ref): PendingDelete => ({ kind: 'bytes', ref, tenant: file.tenant })),
    ...versions.map((v): PendingDelete => {
      const results = withResults(v.upload_id);
      // Still shown by a restored version: its charge moved to that version (dropVersions).
      const chargedBytes = results && v.charged_bytes !== null ? Number(v.charged_bytes) : null;
      return { kind: 'upload', ref: v.upload_id, tenant: file.tenant, owner: file.owner, results, chargedBytes };
    }),
  ];
}

/**
 * Keeps the newest `keep` versions of a file (the current one always among them) and drops the rest
 * (`FILE_MAX_VERSIONS`). `keep` 0 keeps everything.
 */
export async function pruneVersions(trx: Transaction<CatalogueDatabase>, fileId: string, keep: number): Promise<Dropped> {
  if (keep <= 0) return { uploads: [], freed: [], pending: [] };
  const rows = await trx.selectFrom('file_versions').select('version').where('file_id', '=', fileId).orderBy('version', 'desc').execute();
  return dropVersions(trx, fileId, rows.slice(Math.max(1, keep)).map((r) => Number(r.version)));
}

/**
 * Deletes version `n` of a file of `scope`. The current version cannot be deleted this way (delete the
 * file, or restore another version first): `current`. Undefined when there is no such file or version.
 */
export async function removeVersion(trx: Transaction<CatalogueDatabase>, scope: OwnerScope, fileId: string, n: number): Promise<Dropped | 'current' | undefined> {
  const file = await trx.selectFrom('files').select(['current_version'])
    .where('id', '=', fileId).where('tenant', '=', scope.tenant).where('owner', '=', scope.owner)
    .executeTakeFirst();
  if (!file) return undefined;
  if (Number(file.current_version) === n) return 'current';
  const exists = await trx.selectFrom('file_versions').select('version').where('file_id', '=', fileId).where('version', '=', n).executeTakeFirst();
  if (!exists) return undefined;
  return dropVersions(trx, fileId, [n]);
}

/** Catalogued files whose processing summary is not recorded yet, oldest first (the content follower's sweep). */
export async function unprocessed(db: Db, finishedBefore: string, limit: number): Promise<Array<{ fileId: string; uploadId: string }>> {
  const rows = await db.selectFrom('files').select(['id', 'upload_id'])
    .where('processing', 'is', null).where('finished_at', '<', finishedBefore)
    .orderBy('finished_at', 'asc').limit(limit).execute();
  return rows.map((r) => ({ fileId: r.id, uploadId: r.upload_id }));
}
