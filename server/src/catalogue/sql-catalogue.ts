import { sql, type Kysely, type Transaction } from 'kysely';
import type { CatalogueDb } from './database.js';
import { decodeCursor, encodeCursor, isUniqueViolation, newId, normaliseTags, toFile, toObject, toVersion } from './rows.js';
import type { CatalogueDatabase } from './schema.js';
import type {
  Catalogue, CatalogueFile, CatalogueObject, ContentSet, Dropped, Located, Restored, FileFilters, FilePage, FilePatch, FileVersion, IngestInput, IngestResult,
  LifecycleRule, OwnerScope, PendingDelete, Removed, StorageClass, TenantUsage, UploadInCatalogue, Usage,
} from './types.js';
import { tenantUsage, usageOf } from './usage-queries.js';
import { findContent, locate, pendingOf, pruneVersions, release, removeVersion, restoreVersion, unprocessed, versionOf } from './versions.js';
import { deleteDone, owe, pendingDeletes } from './pending.js';

type Db = Kysely<CatalogueDatabase>;

/** When a concurrent writer took the same unique slot (upload id, key), the transaction is run again. */
const UNIQUE_RETRIES = 3;

const DEFAULT_MEDIA_TYPE = 'application/octet-stream';

/** A row this transaction relied on changed under it (another transaction committed first): run it again. */
class RaceLost extends Error {}

/**
 * The catalogue over Kysely: the same queries on SQLite and PostgreSQL. Each write is one transaction;
 * an ingest that loses a race for the same upload or key is retried and then sees the winner's rows.
 */
export class SqlCatalogue implements Catalogue {
  private readonly db: Db;
  private readonly dedup: boolean;

  /**
   * `options.dedup` (default true): whether content already stored for the tenant is shared. Off when
   * the catalogue is not shared by every node (REDIS_URL without DATABASE_URL): another node could not
   * find the shared object, so each upload keeps its own bytes (the sha256 is still recorded per version).
   */
  constructor(private readonly database: CatalogueDb, options: { dedup?: boolean } = {}) {
    this.db = database.db;
    this.dedup = options.dedup ?? true;
  }

  migrate(): Promise<void> {
    return this.database.migrate();
  }

  async ingest(input: IngestInput): Promise<IngestResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute((trx) => this.ingestIn(trx, input));
      } catch (err) {
        if (!(isUniqueViolation(err) || err instanceof RaceLost) || attempt >= UNIQUE_RETRIES) throw err;
      }
    }
  }

  private async ingestIn(trx: Transaction<CatalogueDatabase>, input: IngestInput): Promise<IngestResult> {
    const seen = await trx.selectFrom('file_versions').selectAll().where('upload_id', '=', input.uploadId).executeTakeFirst();
    if (seen) {
      const file = await this.fileById(trx, seen.file_id);
      if (file) {
        // Its bytes were deduplicated: hand them back again, so a node that died before deleting them
        // (the hand-over is then driven again) deletes them now (deleting twice is harmless).
        const object = await trx.selectFrom('objects').select('location').where('id', '=', seen.object_id).executeTakeFirst();
        const freed = object && object.location !== input.uploadId ? input.uploadId : undefined;
        return { file, version: Number(seen.version), created: false, ...(freed && { freed }) };
      }
    }
    const now = new Date().toISOString();
    const sha256 = input.sha256 ?? null;
    // Content already stored for the tenant: point at it, and hand this upload's bytes back to be deleted.
    const same = sha256 && this.dedup
      ? await trx.selectFrom('objects').selectAll().where('tenant', '=', input.tenant).where('sha256', '=', sha256).executeTakeFirst()
      : undefined;
    let objectId: string;
    let storageClass: StorageClass = 'standard';
    if (same) {
      objectId = same.id;
      storageClass = same.storage_class as StorageClass;
      const taken = await trx.updateTable('objects').set({ refs: sql`refs + 1` }).where('id', '=', same.id).executeTakeFirst();
      // Its last reference went meanwhile (a delete committed between the select and this update): run again.
      if (Number(taken.numUpdatedRows) !== 1) throw new RaceLost(`object ${same.id} released meanwhile`);
    } else {
      objectId = newId();
      await trx
        .insertInto('objects')
        .values({ id: objectId, tenant: input.tenant, sha256: this.dedup ? sha256 : null, size: input.size, location: input.uploadId, storage_class: 'standard', refs: 1, created_at: now })
        .execute();
    }
    const mediaType = input.mediaType || DEFAULT_MEDIA_TYPE;
    const metadata = JSON.stringify(input.metadata);
    const tags = normaliseTags(input.tags);
    const existing = input.key
      ? await trx.selectFrom('files').selectAll()
          .where('tenant', '=', input.tenant).where('owner', '=', input.owner).where('key', '=', input.key)
          .executeTakeFirst()
      : undefined;
    let fileId: string;
    let version: number;
    if (existing) {
      fileId = existing.id;
      version = Number(existing.current_version) + 1;
      await trx
        .updateTable('files')
        .set({
          name: input.name, media_type: mediaType, size: input.size, sha256, object_id: objectId, upload_id: input.uploadId,
          storage_class: storageClass, metadata, current_version: version, finished_at: input.finishedAt, updated_at: now,
          // The new version's processing is summarised again once its jobs are over (catalogue/content.ts).
          processing: null,
        })
        .where('id', '=', fileId)
        .execute();
      if (tags.length > 0) await this.replaceTags(trx, fileId, tags);
    } else {
      fileId = newId();
      version = 1;
      await trx
        .insertInto('files')
        .values({
          id: fileId, tenant: input.tenant, owner: input.owner, name: input.name, key: input.key, media_type: mediaType,
          size: input.size, sha256, object_id: objectId, upload_id: input.uploadId, storage_class: storageClass, metadata,
          processing: null, current_version: 1, created_at: input.createdAt, finished_at: input.finishedAt,
          last_accessed_at: null, updated_at: now,
        })
        .execute();
      await this.replaceTags(trx, fileId, tags);
    }
    await trx
      .insertInto('file_versions')
      .values({
        file_id: fileId, version, upload_id: input.uploadId, object_id: objectId, size: input.size, sha256, created_at: input.finishedAt, name: input.name, metadata,
        token_id: input.tokenId ?? null, charged_bytes: input.chargedBytes ?? null,
      })
      .execute();
    // The duplicate's own bytes are owed to the storage (durably: see pending.ts).
    if (same) await owe(trx, [{ kind: 'bytes', ref: input.uploadId, tenant: input.tenant }]);
    const file = (await this.fileById(trx, fileId))!;
    return { file, version, created: true, freed: same ? input.uploadId : undefined };
  }

  private async replaceTags(trx: Transaction<CatalogueDatabase>, fileId: string, tags: string[]): Promise<void> {
    await trx.deleteFrom('file_tags').where('file_id', '=', fileId).execute();
    if (tags.length > 0) await trx.insertInto('file_tags').values(tags.map((tag) => ({ file_id: fileId, tag }))).execute();
  }

  private async fileById(db: Db, id: string, scope?: OwnerScope): Promise<CatalogueFile | undefined> {
    let query = db.selectFrom('files').selectAll().where('id', '=', id);
    if (scope) query = query.where('tenant', '=', scope.tenant).where('owner', '=', scope.owner);
    const row = await query.executeTakeFirst();
    if (!row) return undefined;
    const tags = await db.selectFrom('file_tags').select('tag').where('file_id', '=', id).execute();
    return toFile(row, tags.map((t) => t.tag));
  }

  get(scope: OwnerScope, id: string): Promise<CatalogueFile | undefined> {
    return this.fileById(this.db, id, scope);
  }

  async byUpload(uploadId: string): Promise<UploadInCatalogue | undefined> {
    const row = await this.db.selectFrom('file_versions').selectAll().where('upload_id', '=', uploadId).executeTakeFirst();
    if (!row) return undefined;
    const [file, object] = await Promise.all([
      this.fileById(this.db, row.file_id),
      this.db.selectFrom('objects').selectAll().where('id', '=', row.object_id).executeTakeFirst(),
    ]);
    return file && object ? { file, version: toVersion(row), object: toObject(object) } : undefined;
  }

  async list(scope: OwnerScope, filters: FileFilters, cursor: string | undefined, limit: number): Promise<FilePage> {
    const size = Math.max(1, Math.min(1000, Math.floor(limit)));
    let query = this.db.selectFrom('files').selectAll().where('tenant', '=', scope.tenant).where('owner', '=', scope.owner);
    if (filters.tag !== undefined) {
      const tag = filters.tag;
      query = query.where((eb) =>
        eb.exists(eb.selectFrom('file_tags').select('file_tags.tag').whereRef('file_tags.file_id', '=', 'files.id').where('file_tags.tag', '=', tag)),
      );
    }
    if (filters.mediaType !== undefined) query = query.where(mediaTypeMatch(filters.mediaType));
    if (filters.namePrefix) {
      // substr/length rather than LIKE: the same meaning on both backends (LIKE's case rules differ).
      const prefix = filters.namePrefix;
      query = query.where(sql<boolean>`substr(name, 1, ${[...prefix].length}) = ${prefix}`);
    }
    if (filters.createdFrom) query = query.where('created_at', '>=', filters.createdFrom);
    if (filters.createdTo) query = query.where('created_at', '<', filters.createdTo);
    const after = cursor ? decodeCursor(cursor) : undefined;
    if (after) {
      query = query.where((eb) =>
        eb.or([eb('created_at', '<', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '<', after.id)])]),
      );
    }
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(size + 1).execute();
    const page = rows.slice(0, size);
    const tags = await this.tagsOf(page.map((r) => r.id));
    const files = page.map((r) => toFile(r, tags.get(r.id) ?? []));
    const last = page[page.length - 1];
    return rows.length > size && last ? { files, nextCursor: encodeCursor(last.created_at, last.id) } : { files };
  }

  private async tagsOf(ids: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (ids.length === 0) return out;
    for (const row of await this.db.selectFrom('file_tags').selectAll().where('file_id', 'in', ids).execute()) {
      out.set(row.file_id, [...(out.get(row.file_id) ?? []), row.tag]);
    }
    return out;
  }

  async versions(scope: OwnerScope, id: string): Promise<FileVersion[] | undefined> {
    if (!(await this.fileById(this.db, id, scope))) return undefined;
    const rows = await this.db.selectFrom('file_versions').selectAll().where('file_id', '=', id).orderBy('version', 'desc').execute();
    return rows.map(toVersion);
  }

  async update(scope: OwnerScope, id: string, patch: FilePatch): Promise<CatalogueFile | undefined> {
    return this.db.transaction().execute(async (trx) => {
      if (!(await this.fileById(trx, id, scope))) return undefined;
      const set: { name?: string; processing?: string | null; updated_at: string } = { updated_at: new Date().toISOString() };
      if (patch.name !== undefined) set.name = patch.name;
      if (patch.processing !== undefined) set.processing = patch.processing === null ? null : JSON.stringify(patch.processing);
      await trx.updateTable('files').set(set).where('id', '=', id).execute();
      if (patch.tags !== undefined) await this.replaceTags(trx, id, normaliseTags(patch.tags));
      return this.fileById(trx, id);
    });
  }

  async remove(scope: OwnerScope, id: string): Promise<Removed | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const file = await this.fileById(trx, id, scope);
      if (!file) return undefined;
      const versions = await trx.selectFrom('file_versions').select(['object_id', 'upload_id', 'charged_bytes']).where('file_id', '=', id).execute();
      await trx.deleteFrom('file_tags').where('file_id', '=', id).execute();
      await trx.deleteFrom('file_versions').where('file_id', '=', id).execute();
      await trx.deleteFrom('files').where('id', '=', id).execute();
      const freed = await release(trx, versions.map((v) => v.object_id));
      // What the storage and the records are owed, in this transaction: a node killed before the
      // clean-up leaves it to the next drain.
      const pending = pendingOf(file, freed, versions, () => true);
      await owe(trx, pending);
      return { file, uploads: versions.map((v) => v.upload_id), freed, pending };
    });
  }

  usage(scope: { tenant: string; owner?: string }): Promise<Usage> {
    return usageOf(this.db, scope);
  }

  usageByTenant(limit: number): Promise<TenantUsage> {
    return tenantUsage(this.db, limit);
  }

  async setContent(uploadId: string, sha256: string, mediaType: string | null): Promise<ContentSet | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute((trx) => this.setContentIn(trx, uploadId, sha256, mediaType));
      } catch (err) {
        if (!(isUniqueViolation(err) || err instanceof RaceLost) || attempt >= UNIQUE_RETRIES) throw err;
      }
    }
  }

  private async setContentIn(trx: Transaction<CatalogueDatabase>, uploadId: string, sha256: string, mediaType: string | null): Promise<ContentSet | undefined> {
    const version = await trx.selectFrom('file_versions').selectAll().where('upload_id', '=', uploadId).executeTakeFirst();
    if (!version) return undefined;
    const objectRow = await trx.selectFrom('objects').selectAll().where('id', '=', version.object_id).executeTakeFirst();
    const object = objectRow && toObject(objectRow);
    let objectId = version.object_id;
    let freed: string | undefined;
    if (object && object.sha256 === null && this.dedup) {
      const same = await trx.selectFrom('objects').selectAll()
        .where('tenant', '=', object.tenant).where('sha256', '=', sha256).where('id', '!=', object.id)
        .executeTakeFirst();
      if (same) {
        // Deduplication: every reference to this object moves to the one already stored.
        objectId = same.id;
        await trx.updateTable('file_versions').set({ object_id: same.id }).where('object_id', '=', object.id).execute();
        await trx.updateTable('files').set({ object_id: same.id, storage_class: same.storage_class }).where('object_id', '=', object.id).execute();
        const taken = await trx.updateTable('objects').set({ refs: sql`refs + ${object.refs}` }).where('id', '=', same.id).executeTakeFirst();
        if (Number(taken.numUpdatedRows) !== 1) throw new RaceLost(`object ${same.id} released meanwhile`);
        await trx.deleteFrom('objects').where('id', '=', object.id).execute();
        freed = object.location;
        await owe(trx, [{ kind: 'bytes', ref: freed, tenant: object.tenant }]);
      } else {
        await trx.updateTable('objects').set({ sha256 }).where('id', '=', object.id).execute();
      }
    }
    // Already pointing at another upload's bytes (deduplicated before): hand its own back again, so a node
    // that died before deleting them deletes them now.
    if (!freed && object && object.location !== uploadId && !/\.r\d+$/.test(uploadId)) freed = uploadId;
    await trx.updateTable('file_versions').set({ sha256 }).where('upload_id', '=', uploadId).execute();
    const fileSet: { sha256: string; media_type?: string; updated_at: string } = { sha256, updated_at: new Date().toISOString() };
    if (mediaType) fileSet.media_type = mediaType;
    await trx.updateTable('files').set(fileSet).where('upload_id', '=', uploadId).execute();
    const file = (await this.fileById(trx, version.file_id))!;
    return freed ? { file: { ...file, objectId }, freed } : { file };
  }

  async candidates(rule: LifecycleRule, now: Date, limit: number): Promise<CatalogueFile[]> {
    const cutoff = new Date(now.getTime() - rule.olderThanMs).toISOString();
    let query = this.db.selectFrom('files').selectAll();
    query =
      rule.basis === 'created'
        ? query.where('created_at', '<', cutoff)
        : query.where(sql<boolean>`coalesce(last_accessed_at, created_at) < ${cutoff}`);
    if (rule.tag !== undefined) {
      const tag = rule.tag;
      query = query.where((eb) =>
        eb.exists(eb.selectFrom('file_tags').select('file_tags.tag').whereRef('file_tags.file_id', '=', 'files.id').where('file_tags.tag', '=', tag)),
      );
    }
    if (rule.mediaType !== undefined) query = query.where(mediaTypeMatch(rule.mediaType));
    if (rule.storageClass !== undefined) query = query.where('storage_class', '=', rule.storageClass);
    const rows = await query.orderBy('created_at', 'asc').orderBy('id', 'asc').limit(Math.max(1, limit)).execute();
    const tags = await this.tagsOf(rows.map((r) => r.id));
    return rows.map((r) => toFile(r, tags.get(r.id) ?? []));
  }

  async setStorageClass(fileId: string, storageClass: StorageClass): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const file = await trx.selectFrom('files').select('object_id').where('id', '=', fileId).executeTakeFirst();
      if (!file) return;
      await trx.updateTable('objects').set({ storage_class: storageClass }).where('id', '=', file.object_id).execute();
      // Every file whose current bytes are that object is in the same class.
      await trx.updateTable('files').set({ storage_class: storageClass, updated_at: new Date().toISOString() }).where('object_id', '=', file.object_id).execute();
    });
  }

  async touch(fileId: string, at: Date = new Date()): Promise<void> {
    await this.db.updateTable('files').set({ last_accessed_at: at.toISOString() }).where('id', '=', fileId).execute();
  }

  async getMeta(key: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('catalogue_meta').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.db.insertInto('catalogue_meta').values({ key, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
  }

  // --- Dedup and versions: the queries live in versions.ts ---

  locate(uploadId: string): Promise<Located | undefined> {
    return locate(this.db, uploadId);
  }

  findContent(tenant: string, sha256: string): Promise<CatalogueObject | undefined> {
    return findContent(this.db, tenant, sha256);
  }

  version(scope: OwnerScope, id: string, n: number): Promise<{ version: FileVersion; object: CatalogueObject } | undefined> {
    return versionOf(this.db, scope, id, n);
  }

  async restore(scope: OwnerScope, id: string, n: number): Promise<Restored | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute((trx) => restoreVersion(trx, scope, id, n));
      } catch (err) {
        // A new version taken at the same time by an ingest of the same key: run again after it.
        if (!isUniqueViolation(err) || attempt >= UNIQUE_RETRIES) throw err;
      }
    }
  }

  removeVersion(scope: OwnerScope, id: string, n: number): Promise<Dropped | 'current' | undefined> {
    return this.db.transaction().execute((trx) => removeVersion(trx, scope, id, n));
  }

  pruneVersions(fileId: string, keep: number): Promise<Dropped> {
    return this.db.transaction().execute((trx) => pruneVersions(trx, fileId, keep));
  }

  unprocessed(finishedBefore: string, limit: number): Promise<Array<{ fileId: string; uploadId: string }>> {
    return unprocessed(this.db, finishedBefore, limit);
  }

  pendingDeletes(limit: number): Promise<PendingDelete[]> {
    return pendingDeletes(this.db, limit);
  }

  deleteDone(item: Pick<PendingDelete, 'kind' | 'ref'>): Promise<boolean> {
    return deleteDone(this.db, item);
  }

  async check(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  close(): Promise<void> {
    return this.database.close();
  }
}

/** `video/mp4` matches exactly; `video/*` matches the family. */
function mediaTypeMatch(mediaType: string) {
  if (mediaType.endsWith('/*')) {
    const family = mediaType.slice(0, -1);
    return sql<boolean>`substr(media_type, 1, ${family.length}) = ${family}`;
  }
  return sql<boolean>`media_type = ${mediaType}`;
}
