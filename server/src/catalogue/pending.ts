import type { Kysely, Transaction } from 'kysely';
import type { CatalogueDatabase } from './schema.js';
import type { PendingDelete } from './types.js';

type Db = Kysely<CatalogueDatabase> | Transaction<CatalogueDatabase>;

/**
 * The durable to-delete list (issue 14): the clean-up a committed deletion owes the storage and the
 * upload records, written in the transaction that frees it. The node that committed drains its own
 * entries at once; a node killed before that leaves them for the next drain on any node (the hand-over
 * sweep and the maintenance job). Every step of a drain is idempotent (deleting twice is harmless),
 * so two nodes draining the same entry at once do no harm.
 */

/** Adds entries (an entry already listed stays as it is). Run inside the freeing transaction. */
export async function owe(trx: Transaction<CatalogueDatabase>, items: readonly PendingDelete[], now = new Date().toISOString()): Promise<void> {
  for (const item of items) {
    await trx
      .insertInto('pending_deletes')
      .values({
        kind: item.kind, ref: item.ref, tenant: item.tenant, owner: item.kind === 'upload' ? item.owner : '',
        charged_bytes: item.kind === 'upload' ? item.chargedBytes : null, results: item.kind === 'upload' && !item.results ? 0 : 1, created_at: now,
      })
      .onConflict((oc) => oc.columns(['kind', 'ref']).doNothing())
      .execute();
  }
}

/** Entries still owed, oldest first. */
export async function pendingDeletes(db: Db, limit: number): Promise<PendingDelete[]> {
  const rows = await db.selectFrom('pending_deletes').selectAll().orderBy('created_at', 'asc').orderBy('ref', 'asc').limit(Math.max(1, limit)).execute();
  return rows.map((r): PendingDelete =>
    r.kind === 'bytes'
      ? { kind: 'bytes', ref: r.ref, tenant: r.tenant }
      : {
          kind: 'upload', ref: r.ref, tenant: r.tenant, owner: r.owner, results: Number(r.results) === 1,
          chargedBytes: r.charged_bytes === null ? null : Number(r.charged_bytes),
        },
  );
}

/** Removes a done entry; false when it was not listed (any more: another drain took it). */
export async function deleteDone(db: Db, item: Pick<PendingDelete, 'kind' | 'ref'>): Promise<boolean> {
  const result = await db.deleteFrom('pending_deletes').where('kind', '=', item.kind).where('ref', '=', item.ref).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
