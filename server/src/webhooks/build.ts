import { STREAMS, type MediaOutcome } from '@tus-edge/processors';
import type { Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import type { CatalogueDb } from '../catalogue/database.js';
import type { Logger } from '../ops/logger.js';
import type { OwnerLookup } from './events.js';
import { CatalogueQueue, JetStreamQueue, type DeliveryQueue } from './queue.js';
import { SqlWebhookStore } from './sql-store.js';
import { Webhooks } from './webhooks.js';

/** The durable consumer every server node shares to turn job outcomes (`MEDIA`) into webhook events. */
export const OUTCOMES_CONSUMER = 'webhooks-outcomes';

/**
 * Builds the webhooks of this process, choosing the queue once: the `WEBHOOKS` JetStream stream when
 * the pipeline runs on JetStream (`NATS_URL`), where every node also follows the `MEDIA` stream for job
 * outcomes (workers run elsewhere); else the catalogue's delivery table, with job outcomes reported by
 * the in-process runtime ({@link Webhooks.outcomes}), or read from the processing statuses when the
 * workers run in processes of their own on the directory queue ({@link Webhooks.fromStatus}).
 */
export function buildWebhooks(config: Config, db: Pick<CatalogueDb, 'db'>, owners: OwnerLookup, registry: Registry, logger: Logger, now: () => Date): Webhooks {
  const settings = config.webhooks;
  // Job outcomes from the start of this process on (the first node to create the consumer fixes it).
  const started = now();
  const store = new SqlWebhookStore(db);
  const log = logger.child({ component: 'webhooks' });
  const options = { concurrency: settings.concurrency, pollIntervalMs: settings.pollIntervalMs, now, logger: log };
  let webhooks: Webhooks | undefined;
  const queue: DeliveryQueue =
    config.processing.queue.kind === 'jetstream'
      ? new JetStreamQueue(config.processing.queue.servers, store, {
          ...options,
          nodeName: config.nodeName,
          replicas: config.processing.queue.streams.replicas,
          ackWaitMs: settings.timeoutMs + 15_000,
          // A message waits in JetStream until its attempt is due; one overdue by this much was lost.
          overdueMs: Math.max(30_000, 2 * (settings.timeoutMs + 15_000)),
          feeds: [{
            consumer: { stream: STREAMS.media.name, consumer: OUTCOMES_CONSUMER, filterSubject: 'media.>', ackWaitMs: 30_000, concurrency: 2, startTime: started },
            handle: async (m) => {
              await webhooks!.onOutcome(JSON.parse(m.data) as MediaOutcome);
              return { done: true };
            },
          }],
        })
      : new CatalogueQueue(store, options);
  // Workers of their own on the directory queue report job outcomes nowhere: they are read from the statuses.
  const outcomesFromStatus = config.processing.queue.kind !== 'jetstream' && !config.processors.inProcess;
  webhooks = new Webhooks({ store, config: settings, logger: log, registry, owners, queue, now, outcomesFromStatus });
  return webhooks;
}
