/**
 * The QueueAdmin contract (depth, dead letters, retry) on both queues: the embedded directory queue,
 * and JetStream on a real nats-server.
 */
import fs from 'node:fs/promises';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNats, tempDir, writeOutboxEvent } from '@tus-edge/testkit';
import { silentLogger } from '../logger.js';
import { DirectoryQueueAdmin } from './directory/admin.js';
import { DirectorySource } from './directory/source.js';
import { JetStreamQueueAdmin } from './jetstream/admin.js';
import { JetStreamEventPublisher } from './jetstream/publisher.js';
import { JetStreamSource } from './jetstream/source.js';
import { ensureStreams } from './jetstream/streams.js';
import { ADMIN_KIND, adminRoute, queueAdminContract } from './queue-admin.contract.js';

const ACK_WAIT_MS = 5000;

queueAdminContract('directory', async () => {
  const dir = await tempDir();
  const source = new DirectorySource({ dir, logger: silentLogger, ackWaitMs: ACK_WAIT_MS, pollMs: 100 });
  await source.start({ kinds: [ADMIN_KIND], route: adminRoute, backoff: () => 50 });
  return {
    admin: new DirectoryQueueAdmin(dir, [ADMIN_KIND]),
    source,
    publish: (event) => writeOutboxEvent(dir, event),
    cleanup: async () => {
      await source.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
});

queueAdminContract('jetstream', async () => {
  const nats = await startNats();
  const connections: NatsConnection[] = [];
  const conn = async () => {
    const nc = await connect({ servers: nats.url });
    connections.push(nc);
    return nc;
  };
  const admin = await conn();
  await ensureStreams(await jetstreamManager(admin), { retention: 'limits', maxAgeMs: 3_600_000, replicas: 1, duplicateWindowMs: 60_000, deadLetterMaxAgeMs: 3_600_000 });
  const source = new JetStreamSource(await conn(), { ackWaitMs: ACK_WAIT_MS, maxDeliver: 5, logger: silentLogger, fetchExpiresMs: 1000 });
  await source.start({ kinds: [ADMIN_KIND], route: adminRoute, backoff: () => 50 });
  const publisher = new JetStreamEventPublisher(jetstream(admin));
  return {
    admin: new JetStreamQueueAdmin(() => admin),
    source,
    publish: (event) => publisher.publish(event),
    cleanup: async () => {
      await source.stop();
      for (const nc of connections) await nc.close();
      await nats.stop();
    },
  };
});
