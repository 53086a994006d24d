/**
 * Attempt records on a real nats-server: published once per attempt id (JetStream dedup), taken by the
 * shared durable consumer in batches, redelivered while writing fails, malformed ones dropped, and
 * gone from the work-queue stream once written.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNats, waitFor, type NatsHandle } from '@tus-edge/testkit';
import type { JobAttempt } from '../attempts.js';
import { createLogger } from '../../logger.js';
import { consumeAttempts, JetStreamAttemptPublisher } from './attempts.js';
import { STREAMS, SUBJECTS } from './streams.js';

const settings = { retention: 'limits' as const, maxAgeMs: 3_600_000, replicas: 1, duplicateWindowMs: 120_000, deadLetterMaxAgeMs: 3_600_000 };
let nats: NatsHandle;
let nc: NatsConnection;
beforeAll(async () => {
  nats = await startNats();
  nc = await connect({ servers: nats.url });
}, 60_000);
afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

const attempt = (n: number): JobAttempt => ({
  version: 1, id: `e${n}:documents#1`, jobId: `e${n}:documents`, uploadId: `u${n}`, kind: 'documents', mediaType: 'application/pdf', size: 10,
  queuedAt: '2030-01-01T00:00:00.000Z', startedAt: '2030-01-01T00:00:01.000Z', endedAt: '2030-01-01T00:00:02.000Z',
  attempt: 1, outcome: 'done', errorCode: null, model: null, promptTokens: 0, completionTokens: 0, metrics: {}, node: 'w1',
});

describe('attempt records on JetStream', () => {
  it('each attempt written once: duplicates stored once, a failed write redelivered, malformed records dropped', async () => {
    const written: JobAttempt[][] = [];
    let failures = 1;
    const consumer = consumeAttempts([nats.url], settings, {
      name: 'attempts-test', logger: createLogger('silent'), ackWaitMs: 5000, retryDelayMs: 200,
      write: async (batch) => {
        if (failures-- > 0) throw new Error('database down');
        written.push(batch);
      },
    });
    try {
      await waitFor(async () => (await (await jetstreamManager(nc)).streams.info(STREAMS.analytics.name).catch(() => null)) !== null, 10_000, 'stream made');
      const publisher = new JetStreamAttemptPublisher(jetstream(nc));
      for (const n of [1, 2, 3, 2]) await publisher.record(attempt(n));
      await jetstream(nc).publish(SUBJECTS.attempts, '{"not":"an attempt"}', { msgID: 'bad' });
      await waitFor(async () => written.flat().length >= 3, 20_000, 'attempts written');
      expect(written.flat().map((a) => a.id).sort()).toEqual(['e1:documents#1', 'e2:documents#1', 'e3:documents#1']);
      const jsm = await jetstreamManager(nc);
      await waitFor(async () => (await jsm.streams.info(STREAMS.analytics.name)).state.messages === 0, 10_000, 'stream drained');
    } finally {
      await consumer.stop();
    }
  }, 60_000);
});
