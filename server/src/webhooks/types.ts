import type { WebhookEventType } from '../config/webhooks.js';
import type { OwnerScope } from '../catalogue/types.js';

export type { WebhookEventType };

/** An endpoint as its owner sees it (never with its secret, which is shown once at registration). */
export interface WebhookEndpoint {
  id: string;
  tenant: string;
  owner: string;
  url: string;
  events: WebhookEventType[];
  description: string | null;
  createdAt: string;
  /** Set when the endpoint answered 410 Gone: nothing more is sent to it. */
  disabledAt: string | null;
  disabledReason: string | null;
  /** Operator endpoints come from WEBHOOK_URLS and receive every owner's events. */
  operator?: boolean;
}

/** An endpoint with the key its deliveries are signed with. */
export interface SigningEndpoint extends WebhookEndpoint {
  secret: string;
}

/** One event, as every endpoint receives it (the JSON body of each delivery). */
export interface WebhookEvent {
  /** Stable: the same for every retry and on every node (`Webhook-Id`); receivers deduplicate by it. */
  id: string;
  type: WebhookEventType;
  /** When the event happened (the upload finished, the job ended). */
  createdAt: string;
  /** Whose event it is: the owner's endpoints get it; operator endpoints get everyone's. */
  tenant: string | null;
  owner: string | null;
  data: WebhookEventData;
}

export interface WebhookEventData {
  uploadId: string;
  /** The catalogue file the upload became (null while it is not catalogued yet). */
  fileId: string | null;
  name?: string | null;
  size?: number;
  mediaType?: string | null;
  /** For processing events: the processor kind, its outcome and, when it failed, why. */
  kind?: string;
  outcome?: 'done' | 'failed';
  errorCode?: string | null;
  reason?: string | null;
  processingTimeMs?: number;
  finishedAt?: string;
}

export type DeliveryState = 'pending' | 'delivered' | 'failed' | 'disabled';

/** One attempt of a delivery: the answer's status, or why there was none. */
export interface DeliveryAttempt {
  attempt: number;
  at: string;
  status: number | null;
  error: string | null;
  durationMs: number;
}

/** One event's delivery to one endpoint. */
export interface Delivery {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: WebhookEventType;
  state: DeliveryState;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  /** While pending: when the next attempt is due. */
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  expiresAt: string;
  createdAt: string;
  payload: string;
  claimedUntil: string | null;
}

/** A delivery to record for an event: created once per (endpoint, event), never again. */
export interface NewDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: WebhookEventType;
  payload: string;
  at: string;
  expiresAt: string;
}

/** What an attempt ended with: the delivery's next state. */
export type Settlement =
  | { state: 'delivered' | 'failed' | 'disabled' }
  | { state: 'pending'; nextAttemptAt: string };

export interface NewEndpoint {
  scope: OwnerScope;
  url: string;
  events: WebhookEventType[];
  description: string | null;
  secret: string;
}

/**
 * Webhook endpoints and deliveries in the catalogue database (SQLite or PostgreSQL). Every method is
 * safe to call from several nodes at once: a delivery is created once per endpoint and event, and an
 * attempt is made only by the node that claimed it. Passed by `webhooks.contract.ts` on both backends.
 */
export interface WebhookStore {
  createEndpoint(input: NewEndpoint, now: Date): Promise<WebhookEndpoint>;
  /** The endpoints of `scope`, oldest first. */
  listEndpoints(scope: OwnerScope): Promise<WebhookEndpoint[]>;
  getEndpoint(scope: OwnerScope, id: string): Promise<WebhookEndpoint | undefined>;
  /** Removes the endpoint; its pending deliveries end as `disabled` when next tried. False when not found. */
  removeEndpoint(scope: OwnerScope, id: string): Promise<boolean>;
  /** The endpoint with its secret, whoever owns it (the sender). */
  signingEndpoint(id: string): Promise<SigningEndpoint | undefined>;
  /** Enabled endpoints of `scope` subscribed to `type`. */
  subscribers(scope: OwnerScope, type: WebhookEventType): Promise<WebhookEndpoint[]>;
  disableEndpoint(id: string, reason: string, now: Date): Promise<void>;
  /** Records deliveries; returns the ids of those that did not exist yet (the others are left alone). */
  enqueue(deliveries: NewDelivery[]): Promise<string[]>;
  /**
   * Takes a due, pending, unclaimed delivery for one attempt until `until` (attempts + 1). Returns the
   * claimed delivery, or `{ claimed: false, delivery }` with its current state (undefined when unknown).
   */
  claim(id: string, now: Date, until: Date): Promise<{ claimed: true; delivery: Delivery } | { claimed: false; delivery?: Delivery }>;
  /** Records attempt `attempt` and the delivery's next state, if that attempt still holds the claim. */
  settle(id: string, attempt: DeliveryAttempt, next: Settlement): Promise<boolean>;
  /** Pending deliveries due at `now` (and unclaimed or with a lapsed claim), soonest first. */
  due(now: Date, limit: number): Promise<string[]>;
  /** Deliveries to `endpointId`, newest first (after `before`, the `<createdAt>|<id>` of a previous page's last one), each with its newest 20 attempts. */
  deliveries(endpointId: string, limit: number, before?: string): Promise<Array<Delivery & { history: DeliveryAttempt[] }>>;
  /** Deliveries pending (waiting for an attempt or a retry). */
  depth(): Promise<number>;
}
