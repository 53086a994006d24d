import { jetstream, jetstreamManager, JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { LANES, type DeadLetterRecord, type Lane } from '../job-source.js';
import { laneOf, QueueUnavailableError, toDeadLetter, type DeadLetter, type DeadLetterPage, type QueueAdmin, type QueueDepth, type RequeueOutcome } from '../queue-admin.js';
import { STREAMS, SUBJECTS } from './streams.js';

/** `deadletter.<kind>` (records); markers are `deadletter._retried.<seq>`. */
const RECORD_SUBJECT = /^deadletter\.([a-z0-9][a-z0-9-]{0,62})$/;
/** `processor-<kind>-<lane>`, the job consumers (see streams.ts `jobConsumer`). */
const JOB_CONSUMER = new RegExp(`^processor-([a-z0-9][a-z0-9-]{0,62})-(${LANES.join('|')})$`);

const isNotFound = (err: unknown) =>
  err instanceof JetStreamApiError && (err.code === JetStreamApiCodes.NoMessageFound || err.code === JetStreamApiCodes.StreamNotFound || err.code === JetStreamApiCodes.ConsumerNotFound);

/**
 * {@link QueueAdmin} over the JetStream streams (server 2.9+): depth from each job consumer
 * (`processor-<kind>-<lane>`: `num_pending` waiting, `num_ack_pending` in flight); dead letters are the
 * `DEADLETTER` stream's `deadletter.<kind>` messages, id = stream sequence, read newest first one
 * message at a time (a page costs about two requests per item: the record and its retry mark). A retry
 * publishes the job again on `jobs.<kind>.<lane>` with msgID `<jobId>:retry:<seq>` (a second publish
 * inside the duplicate window is dropped), then the mark `deadletter._retried.<seq>`.
 *
 * `connection` returns the live NATS connection, or undefined while there is none (calls then throw
 * {@link QueueUnavailableError}).
 */
export class JetStreamQueueAdmin implements QueueAdmin {
  readonly name = 'jetstream';

  constructor(private readonly connection: () => NatsConnection | undefined) {}

  private async manager(): Promise<JetStreamManager> {
    const nc = this.connection();
    if (!nc || nc.isClosed()) throw new QueueUnavailableError('not connected to NATS');
    return jetstreamManager(nc);
  }

  async depth(): Promise<QueueDepth[]> {
    const jsm = await this.manager();
    const depths: QueueDepth[] = [];
    try {
      for await (const info of jsm.consumers.list(STREAMS.jobs.name)) {
        const match = JOB_CONSUMER.exec(info.name);
        if (match) depths.push({ kind: match[1]!, lane: match[2] as Lane, waiting: info.num_pending, inFlight: info.num_ack_pending });
      }
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    return depths.sort((a, b) => a.kind.localeCompare(b.kind) || LANES.indexOf(a.lane) - LANES.indexOf(b.lane));
  }

  async deadLetters({ cursor, limit }: { cursor?: string; limit: number }): Promise<DeadLetterPage> {
    const jsm = await this.manager();
    let state;
    try {
      state = (await jsm.streams.info(STREAMS.deadLetter.name)).state;
    } catch (err) {
      if (isNotFound(err)) return { items: [], nextCursor: null };
      throw err;
    }
    const below = cursor && /^\d+$/.test(cursor) ? Number(cursor) : state.last_seq + 1;
    const items: DeadLetter[] = [];
    let seq = Math.min(below, state.last_seq + 1) - 1;
    for (; seq >= state.first_seq && items.length < limit && state.messages > 0; seq--) {
      const item = await this.read(jsm, seq);
      if (item) items.push(item);
    }
    // More only if an older record exists: look past the page for one.
    let more = false;
    for (let s = seq; s >= state.first_seq && items.length === limit; s--) {
      if (await this.read(jsm, s)) {
        more = true;
        break;
      }
    }
    return { items, nextCursor: more ? String(items[items.length - 1]!.id) : null };
  }

  async deadLetter(id: string): Promise<DeadLetter | null> {
    if (!/^\d{1,15}$/.test(id)) return null;
    return this.read(await this.manager(), Number(id));
  }

  /** The record stored at `seq` with its retry mark; null for a mark, a gap, or another subject. */
  private async read(jsm: JetStreamManager, seq: number): Promise<DeadLetter | null> {
    const m = await jsm.streams.getMessage(STREAMS.deadLetter.name, { seq }).catch((err: unknown) => {
      if (isNotFound(err)) return null;
      throw err;
    });
    if (!m || !RECORD_SUBJECT.test(m.subject)) return null;
    let record: DeadLetterRecord;
    try {
      record = m.json<DeadLetterRecord>();
    } catch {
      return null;
    }
    const mark = await jsm.streams.getMessage(STREAMS.deadLetter.name, { last_by_subj: SUBJECTS.deadLetterRetried(seq) }).catch((err: unknown) => {
      if (isNotFound(err)) return null;
      throw err;
    });
    return toDeadLetter(String(seq), record, mark ? mark.json<{ retriedAt: string }>().retriedAt : null);
  }

  async requeue(id: string): Promise<RequeueOutcome> {
    const dead = await this.deadLetter(id);
    if (!dead) return 'not-found';
    if (dead.retriedAt) return 'already-retried';
    if (!dead.event || dead.kind === 'dispatch') return 'not-retryable';
    const js = jetstream(this.connection()!);
    const lane = laneOf(dead);
    const now = new Date().toISOString();
    // The job payload as dispatch publishes it (see JetStreamSource); a new message, so a fresh delivery count.
    const payload = { version: 1, event: dead.event, persistedAt: now, retried: true };
    const ack = await js.publish(SUBJECTS.job(dead.kind, lane), JSON.stringify(payload), { msgID: `${dead.jobId}:retry:${id}` });
    // Published first, marked second: a crash in between leaves it retryable, and the retry's msgID
    // keeps a second publish inside the duplicate window (another node, a double click) from queueing
    // the job twice: that one is told it was already retried.
    await js.publish(SUBJECTS.deadLetterRetried(Number(id)), JSON.stringify({ retriedAt: now }), { msgID: `retried:${id}` });
    return ack.duplicate ? 'already-retried' : 'retried';
  }
}
