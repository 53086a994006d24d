import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { DeadLetterRecord } from './job-source.js';
import { silentLogger } from '../logger.js';
import { JetStreamEventPublisher } from './jetstream/publisher.js';
import { ensureStreams, STREAMS, SUBJECTS } from './jetstream/streams.js';
import { makeEvent, writeOutboxEvent } from '@tus-edge/testkit';
import { describe, expect, it } from 'vitest';
import { startNats, tempDir } from '@tus-edge/testkit';
import { DirectorySource } from './directory/source.js';
import { JetStreamSource } from './jetstream/source.js';
import { jobSourceContract } from './source.contract.js';

const ACK_WAIT_MS = 1000;

jobSourceContract('directory', async () => {
  const dir = await tempDir();
  return {
    open: async () => new DirectorySource({ dir, logger: silentLogger, ackWaitMs: ACK_WAIT_MS, pollMs: 200 }),
    publish: (event) => writeOutboxEvent(dir, event),
    publishRaw: async (id, payload) => {
      await fs.mkdir(path.join(dir, 'pending'), { recursive: true });
      // Atomically, as the server's outbox writes: the dispatcher must never see half a file.
      await fs.writeFile(path.join(dir, 'pending', `${id}.json.tmp`), payload);
      await fs.rename(path.join(dir, 'pending', `${id}.json.tmp`), path.join(dir, 'pending', `${id}.json`));
    },
    deadLetters: async () => {
      const names = (await fs.readdir(path.join(dir, 'dead'))).filter((n) => n.endsWith('.json'));
      return Promise.all(names.map(async (n) => JSON.parse(await fs.readFile(path.join(dir, 'dead', n), 'utf8')) as DeadLetterRecord));
    },
    ackWaitMs: ACK_WAIT_MS,
    cleanup: () => fs.rm(dir, { recursive: true, force: true }),
  };
});

jobSourceContract('jetstream', async () => {
  const nats = await startNats();
  const connections: NatsConnection[] = [];
  const conn = async () => {
    const nc = await connect({ servers: nats.url });
    connections.push(nc);
    return nc;
  };
  const admin = await conn();
  await ensureStreams(await jetstreamManager(admin), { retention: 'limits', maxAgeMs: 3_600_000, replicas: 1, duplicateWindowMs: 60_000, deadLetterMaxAgeMs: 3_600_000 });
  const js = jetstream(admin);
  const publisher = new JetStreamEventPublisher(js);
  return {
    // Each source gets its own connection, closed when it stops (as the runtime does).
    open: async () => {
      const nc = await conn();
      const source = new JetStreamSource(nc, { ackWaitMs: ACK_WAIT_MS, maxDeliver: 5, logger: silentLogger, fetchExpiresMs: 2000 });
      const stop = source.stop.bind(source);
      source.stop = async () => {
        await stop();
        await nc.close();
      };
      return source;
    },
    publish: (event) => publisher.publish(event),
    publishRaw: async (id, payload) => {
      await js.publish(SUBJECTS.uploadCompleted, payload, { msgID: id });
    },
    deadLetters: async () => {
      const jsm = await jetstreamManager(admin);
      const info = await jsm.streams.info(STREAMS.deadLetter.name);
      const records: DeadLetterRecord[] = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
        const m = await jsm.streams.getMessage(STREAMS.deadLetter.name, { seq }).catch(() => null);
        if (m) records.push(m.json<DeadLetterRecord>());
      }
      return records;
    },
    ackWaitMs: ACK_WAIT_MS,
    cleanup: async () => {
      for (const nc of connections) await nc.close();
      await nats.stop();
    },
  };
});

describe('directory source: an event whose dispatch was interrupted', () => {
  it('is given back to pending by the next source and dispatched once', async () => {
    const dir = await tempDir();
    try {
      const event = makeEvent();
      await writeOutboxEvent(dir, event);
      // A source that renamed the event into dispatching/ and died before writing its jobs.
      const dead = spawnSync('true').pid;
      await fs.mkdir(path.join(dir, 'dispatching'), { recursive: true });
      await fs.rename(path.join(dir, 'pending', `${event.eventId}.json`), path.join(dir, 'dispatching', `${event.eventId}@${dead}.gone.json`));
      const source = new DirectorySource({ dir, logger: silentLogger, ackWaitMs: ACK_WAIT_MS, pollMs: 200 });
      await source.start({ kinds: ['k'], route: async () => 'normal', backoff: () => 50 });
      try {
        const job = await source.next('k');
        expect(job?.event.eventId).toBe(event.eventId);
        await job!.ack();
        expect(await fs.readdir(path.join(dir, 'dispatching'))).toEqual([]);
      } finally {
        await source.stop();
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
