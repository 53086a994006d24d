import { nanos } from '@nats-io/transport-node';
import { JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, DiscardPolicy, AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import type { ConsumerConfig, JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import type { StreamSettings } from '../../config/config.js';
import type { Lane } from '../job-source.js';
import type { Logger } from '../../logger.js';

/**
 * Stream layout:
 * - `UPLOADS` (`uploads.>`): the server publishes `uploads.completed` with msgID = eventId.
 * - `JOBS` (`jobs.>`, work queue): one message per event and processor kind, `jobs.<kind>.<lane>`.
 * - `MEDIA` (`media.>`): outcomes `media.processed` / `media.failed`.
 * - `DEADLETTER` (`deadletter.>`): `deadletter.<kind>` records of jobs that will not be retried, and
 *   `deadletter._retried.<seq>` marks of the records the operator put back on their queue (`_` starts
 *   no processor kind).
 * - `ANALYTICS` (`analytics.>`, work queue): `analytics.attempts`, one record per job attempt from the
 *   workers, taken by the servers' `analytics-history` consumer into the job history.
 */
export const STREAMS = {
  uploads: { name: 'UPLOADS', subjects: ['uploads.>'] },
  jobs: { name: 'JOBS', subjects: ['jobs.>'] },
  media: { name: 'MEDIA', subjects: ['media.>'] },
  deadLetter: { name: 'DEADLETTER', subjects: ['deadletter.>'] },
  analytics: { name: 'ANALYTICS', subjects: ['analytics.>'] },
} as const;

export const SUBJECTS = {
  uploadCompleted: 'uploads.completed',
  job: (kind: string, lane: Lane) => `jobs.${kind}.${lane}`,
  deadLetter: (kind: string) => `deadletter.${kind}`,
  /** The mark that dead-letter record `seq` was retried (see queue-admin.ts). */
  deadLetterRetried: (seq: number) => `deadletter._retried.${seq}`,
  mediaProcessed: 'media.processed',
  mediaFailed: 'media.failed',
  attempts: 'analytics.attempts',
} as const;

/** The servers' durable consumer of `analytics.attempts` (one shared by every node: each record is written once). */
export const ATTEMPTS_CONSUMER = 'analytics-history';

/** Durable consumer of one processor kind that turns every `uploads.completed` event into its job. */
export const dispatchConsumer = (kind: string) => `dispatch-${kind}`;
/** Durable pull consumer of one processor kind and lane, shared by every worker of that kind. */
export const jobConsumer = (kind: string, lane: Lane) => `processor-${kind}-${lane}`;

const RETENTION: Record<StreamSettings['retention'], RetentionPolicy> = {
  limits: RetentionPolicy.Limits,
  interest: RetentionPolicy.Interest,
  workqueue: RetentionPolicy.Workqueue,
};

function desiredStreams(s: StreamSettings): Array<Partial<StreamConfig> & { name: string; subjects: string[] }> {
  const common = { storage: StorageType.File, discard: DiscardPolicy.Old, num_replicas: s.replicas };
  return [
    { ...common, ...STREAMS.uploads, subjects: [...STREAMS.uploads.subjects], retention: RETENTION[s.retention], max_age: nanos(s.maxAgeMs), duplicate_window: nanos(s.duplicateWindowMs) },
    { ...common, ...STREAMS.jobs, subjects: [...STREAMS.jobs.subjects], retention: RetentionPolicy.Workqueue, max_age: nanos(s.maxAgeMs), duplicate_window: nanos(s.duplicateWindowMs) },
    { ...common, ...STREAMS.media, subjects: [...STREAMS.media.subjects], retention: RETENTION[s.retention], max_age: nanos(s.maxAgeMs), duplicate_window: nanos(s.duplicateWindowMs) },
    { ...common, ...STREAMS.analytics, subjects: [...STREAMS.analytics.subjects], retention: RetentionPolicy.Workqueue, max_age: nanos(s.maxAgeMs), duplicate_window: nanos(s.duplicateWindowMs) },
    {
      ...common,
      ...STREAMS.deadLetter,
      subjects: [...STREAMS.deadLetter.subjects],
      retention: RetentionPolicy.Limits,
      max_age: nanos(s.deadLetterMaxAgeMs),
      duplicate_window: nanos(Math.min(s.duplicateWindowMs, s.deadLetterMaxAgeMs)),
    },
  ];
}

const isApiError = (err: unknown, code: number) => err instanceof JetStreamApiError && err.code === code;

/**
 * Creates or updates the `UPLOADS`, `JOBS`, `MEDIA`, `ANALYTICS` and `DEADLETTER` streams; safe to call from many
 * processes at once (server and workers all call it at start). An existing stream keeps any extra
 * subjects it has; max age, replicas and duplicate window are brought to `settings`. Retention cannot
 * change once a stream exists: a different `NATS_STREAM_RETENTION` is refused with a clear error.
 */
export async function ensureStreams(jsm: JetStreamManager, settings: StreamSettings, logger?: Logger): Promise<void> {
  for (const want of desiredStreams(settings)) {
    let info;
    try {
      info = await jsm.streams.info(want.name);
    } catch (err) {
      if (!isApiError(err, JetStreamApiCodes.StreamNotFound)) throw err;
      try {
        await jsm.streams.add(want);
        logger?.info('stream created', { stream: want.name });
        continue;
      } catch (addErr) {
        // Another process created it in between: fall through to the update path.
        info = await jsm.streams.info(want.name).catch(() => {
          throw addErr;
        });
      }
    }
    const have = info.config;
    if (have.retention !== want.retention) {
      throw new Error(
        `stream ${want.name} exists with retention "${have.retention}" but "${want.retention}" is configured ` +
          '(NATS_STREAM_RETENTION); JetStream cannot change retention: delete the stream or keep the setting',
      );
    }
    const subjects = [...new Set([...(have.subjects ?? []), ...want.subjects])];
    const changed =
      subjects.length !== (have.subjects ?? []).length ||
      have.max_age !== want.max_age ||
      have.duplicate_window !== want.duplicate_window ||
      have.num_replicas !== want.num_replicas;
    if (changed) {
      await jsm.streams.update(want.name, { ...have, subjects, max_age: want.max_age, duplicate_window: want.duplicate_window, num_replicas: want.num_replicas });
      logger?.info('stream updated', { stream: want.name });
    }
  }
}

/** Creates the durable pull consumer `name`, or updates its mutable settings when it exists. */
export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  name: string,
  filterSubject: string,
  settings: { ackWaitMs: number; maxDeliver: number; maxAckPending?: number },
): Promise<void> {
  const mutable: Partial<ConsumerConfig> = {
    ack_wait: nanos(settings.ackWaitMs),
    max_deliver: settings.maxDeliver,
    max_ack_pending: settings.maxAckPending ?? 1000,
  };
  try {
    const info = await jsm.consumers.info(stream, name);
    const c = info.config;
    if (c.ack_wait !== mutable.ack_wait || c.max_deliver !== mutable.max_deliver || c.max_ack_pending !== mutable.max_ack_pending) {
      await jsm.consumers.update(stream, name, mutable);
    }
  } catch (err) {
    if (!isApiError(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
    await jsm.consumers.add(stream, {
      ...mutable,
      durable_name: name,
      filter_subject: filterSubject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
    });
  }
}
