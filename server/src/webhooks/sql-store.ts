import { randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { CatalogueDb } from '../catalogue/database.js';
import type { OwnerScope } from '../catalogue/types.js';
import type { WebhookDeliveriesTable, WebhookEndpointsTable, WebhookTables } from '../catalogue/webhook-tables.js';
import type {
  Delivery, DeliveryAttempt, DeliveryState, NewDelivery, NewEndpoint, Settlement, SigningEndpoint, WebhookEndpoint, WebhookEventType, WebhookStore,
} from './types.js';

/** Attempts shown with each delivery in a listing (the newest). */
const HISTORY_EACH = 20;

function toEndpoint(row: Selectable<WebhookEndpointsTable>): WebhookEndpoint {
  return {
    id: row.id,
    tenant: row.tenant,
    owner: row.owner,
    url: row.url,
    events: JSON.parse(row.events) as WebhookEventType[],
    description: row.description,
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
    disabledReason: row.disabled_reason,
  };
}

function toDelivery(row: Selectable<WebhookDeliveriesTable>): Delivery {
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventType: row.event_type as WebhookEventType,
    state: row.state as DeliveryState,
    attempts: Number(row.attempts),
    lastStatus: row.last_status === null ? null : Number(row.last_status),
    lastError: row.last_error,
    nextAttemptAt: row.state === 'pending' ? row.next_attempt_at : null,
    deliveredAt: row.delivered_at,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    payload: row.payload,
    claimedUntil: row.claimed_until,
  };
}

/**
 * The {@link WebhookStore} over Kysely, on the catalogue's own connection (pool): one typed query layer
 * for SQLite and PostgreSQL. Claims are compare-and-set updates, so two nodes never attempt the same
 * delivery at once and a delivery acknowledged is never attempted again.
 */
export class SqlWebhookStore implements WebhookStore {
  private readonly db: Kysely<WebhookTables>;

  constructor(database: Pick<CatalogueDb, 'db'>) {
    // The webhook tables live in the catalogue database (migration 0003_webhooks) but not in its type.
    this.db = database.db as unknown as Kysely<WebhookTables>;
  }

  async createEndpoint(input: NewEndpoint, now: Date): Promise<WebhookEndpoint> {
    const row = {
      id: `wh_${randomBytes(12).toString('hex')}`,
      tenant: input.scope.tenant,
      owner: input.scope.owner,
      url: input.url,
      events: JSON.stringify(input.events),
      description: input.description,
      secret: input.secret,
      disabled_at: null,
      disabled_reason: null,
      created_at: now.toISOString(),
    };
    await this.db.insertInto('webhook_endpoints').values(row).execute();
    return toEndpoint(row);
  }

  async listEndpoints(scope: OwnerScope): Promise<WebhookEndpoint[]> {
    const rows = await this.db.selectFrom('webhook_endpoints').selectAll()
      .where('tenant', '=', scope.tenant).where('owner', '=', scope.owner)
      .orderBy('created_at').orderBy('id').execute();
    return rows.map(toEndpoint);
  }

  async getEndpoint(scope: OwnerScope, id: string): Promise<WebhookEndpoint | undefined> {
    const row = await this.db.selectFrom('webhook_endpoints').selectAll()
      .where('id', '=', id).where('tenant', '=', scope.tenant).where('owner', '=', scope.owner).executeTakeFirst();
    return row && toEndpoint(row);
  }

  async removeEndpoint(scope: OwnerScope, id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('webhook_endpoints')
      .where('id', '=', id).where('tenant', '=', scope.tenant).where('owner', '=', scope.owner).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async signingEndpoint(id: string): Promise<SigningEndpoint | undefined> {
    const row = await this.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
    return row && { ...toEndpoint(row), secret: row.secret };
  }

  async subscribers(scope: OwnerScope, type: WebhookEventType): Promise<WebhookEndpoint[]> {
    const rows = await this.db.selectFrom('webhook_endpoints').selectAll()
      .where('tenant', '=', scope.tenant).where('owner', '=', scope.owner).where('disabled_at', 'is', null).execute();
    return rows.map(toEndpoint).filter((e) => e.events.includes(type));
  }

  async disableEndpoint(id: string, reason: string, now: Date): Promise<void> {
    await this.db.updateTable('webhook_endpoints').set({ disabled_at: now.toISOString(), disabled_reason: reason })
      .where('id', '=', id).where('disabled_at', 'is', null).execute();
  }

  async enqueue(deliveries: NewDelivery[]): Promise<string[]> {
    if (deliveries.length === 0) return [];
    const rows = deliveries.map((d) => ({
      id: d.id, endpoint_id: d.endpointId, event_id: d.eventId, event_type: d.eventType, payload: d.payload, state: 'pending',
      attempts: 0, last_status: null, last_error: null, next_attempt_at: d.at, claimed_until: null, delivered_at: null,
      expires_at: d.expiresAt, created_at: d.at, updated_at: d.at,
    }));
    // The same event handed over twice (a retry, another node) finds its deliveries there and adds none.
    const inserted = await this.db.insertInto('webhook_deliveries').values(rows)
      .onConflict((oc) => oc.doNothing()).returning('id').execute();
    return inserted.map((r) => r.id);
  }

  async claim(id: string, now: Date, until: Date): Promise<{ claimed: true; delivery: Delivery } | { claimed: false; delivery?: Delivery }> {
    const at = now.toISOString();
    const taken = await this.db.updateTable('webhook_deliveries')
      .set((eb) => ({ claimed_until: until.toISOString(), attempts: eb('attempts', '+', 1), updated_at: at }))
      .where('id', '=', id).where('state', '=', 'pending').where('next_attempt_at', '<=', at)
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', at)]))
      .executeTakeFirst();
    const row = await this.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    if (Number(taken.numUpdatedRows) === 1 && row) return { claimed: true, delivery: toDelivery(row) };
    return { claimed: false, ...(row && { delivery: toDelivery(row) }) };
  }

  async settle(id: string, attempt: DeliveryAttempt, next: Settlement): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx.updateTable('webhook_deliveries')
        .set({
          state: next.state,
          last_status: attempt.status,
          last_error: attempt.error,
          claimed_until: null,
          updated_at: attempt.at,
          ...(next.state === 'pending' && { next_attempt_at: next.nextAttemptAt }),
          ...(next.state === 'delivered' && { delivered_at: attempt.at }),
        })
        // Only the attempt that holds the claim settles it (a node whose claim lapsed does not overwrite).
        .where('id', '=', id).where('state', '=', 'pending').where('attempts', '=', attempt.attempt)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return false;
      await trx.insertInto('webhook_attempts')
        .values({ delivery_id: id, attempt: attempt.attempt, at: attempt.at, status: attempt.status, error: attempt.error, duration_ms: Math.round(attempt.durationMs) })
        .onConflict((oc) => oc.doNothing())
        .execute();
      return true;
    });
  }

  async due(now: Date, limit: number): Promise<string[]> {
    const at = now.toISOString();
    const rows = await this.db.selectFrom('webhook_deliveries').select('id')
      .where('state', '=', 'pending').where('next_attempt_at', '<=', at)
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', at)]))
      .orderBy('next_attempt_at').limit(limit).execute();
    return rows.map((r) => r.id);
  }

  async deliveries(endpointId: string, limit: number, before?: string): Promise<Array<Delivery & { history: DeliveryAttempt[] }>> {
    let query = this.db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId);
    // `before` is `<createdAt>|<id>` of the previous page's last delivery (the id breaks ties in time).
    if (before) {
      const [createdAt = '', id = ''] = before.split('|');
      query = query.where((eb) => eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]));
    }
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    if (rows.length === 0) return [];
    const attempts = await this.db.selectFrom('webhook_attempts').selectAll()
      .where('delivery_id', 'in', rows.map((r) => r.id)).orderBy('attempt', 'desc').execute();
    const byDelivery = new Map<string, DeliveryAttempt[]>();
    for (const a of attempts) {
      const list = byDelivery.get(a.delivery_id) ?? [];
      if (list.length < HISTORY_EACH) {
        list.push({ attempt: Number(a.attempt), at: a.at, status: a.status === null ? null : Number(a.status), error: a.error, durationMs: Number(a.duration_ms) });
      }
      byDelivery.set(a.delivery_id, list);
    }
    return rows.map((r) => ({ ...toDelivery(r), history: byDelivery.get(r.id) ?? [] }));
  }

  async depth(): Promise<number> {
    const row = await this.db.selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('state', '=', 'pending').executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}
