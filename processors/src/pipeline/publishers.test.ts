import fs from 'node:fs/promises';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNats, tempDir } from '@tus-edge/testkit';
import { eventPublisherContract } from '@tus-edge/testkit/contracts';
import { silentLogger } from '../logger.js';
import { DirectoryOutbox } from './directory/outbox.js';
import type { UploadCompletedEvent } from './event.js';
import { JetStreamLink } from './jetstream/link.js';
import { JetStreamEventPublisher } from './jetstream/publisher.js';
import { ensureStreams, STREAMS } from './jetstream/streams.js';
import type { EventPublisher } from './publisher.js';

eventPublisherContract('directory outbox', async () => {
  const dir = await tempDir();
  return {
    publisher: new DirectoryOutbox(dir),
    // A fresh instance reads the directory: what is stored survives the writer.
    stored: () => new DirectoryOutbox(dir).pending(),
    cleanup: () => fs.rm(dir, { recursive: true, force: true }),
  };
});

const STREAM_SETTINGS = { retention: 'limits', maxAgeMs: 3_600_000, replicas: 1, duplicateWindowMs: 60_000, deadLetterMaxAgeMs: 3_600_000 } as const;

/** A real nats-server; `stored` reads every message of the `UPLOADS` stream. */
async function jetStreamHarness(makePublisher: (nc: NatsConnection, url: string) => Promise<{ publisher: EventPublisher; close(): Promise<void> }>) {
  const nats = await startNats();
  const nc = await connect({ servers: nats.url });
  await ensureStreams(await jetstreamManager(nc), STREAM_SETTINGS);
  const { publisher, close } = await makePublisher(nc, nats.url);
  return {
    publisher,
    stored: async () => {
      const jsm = await jetstreamManager(nc);
      const { state } = await jsm.streams.info(STREAMS.uploads.name);
      const events: UploadCompletedEvent[] = [];
      for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(STREAMS.uploads.name, { seq }).catch(() => null);
        if (m) events.push(m.json<UploadCompletedEvent>());
      }
      return events;
    },
    cleanup: async () => {
      await close();
      await nc.close();
      await nats.stop();
    },
  };
}

eventPublisherContract('JetStream (msgID = eventId, real nats-server)', () =>
  jetStreamHarness(async (nc) => ({ publisher: new JetStreamEventPublisher(jetstream(nc)), close: async () => undefined })),
);

eventPublisherContract('JetStreamLink (the server side: connects, creates the streams, publishes)', () =>
  jetStreamHarness(async (_nc, url) => {
    const link = new JetStreamLink([url], STREAM_SETTINGS, 'contract', silentLogger);
    await link.ready();
    return { publisher: link, close: () => link.close() };
  }),
);
