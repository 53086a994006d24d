import { attemptsDir, consumeAttempts, drainAttempts, type AttemptRecorder } from '@tus-edge/processors';
import type { Config } from '../config/config.js';
import type { Logger } from '../ops/logger.js';
import type { UploadRecord } from '../records/types.js';
import { HistoryWriter, type HistoryWriterDeps } from './recorder.js';
import type { JobHistory } from './types.js';

/** What the history's intake needs of the app context. */
export interface AnalyticsDeps extends HistoryWriterDeps {
  config: Pick<Config, 'analytics' | 'processing' | 'nodeName' | 'dataDir'>;
  logger: Logger;
}

/** What recording usage needs of the app context. */
export interface UsageDeps {
  config: Pick<Config, 'analytics'>;
  history: JobHistory;
  logger: Logger;
  now: () => Date;
}

/** How often a server on the directory queue takes in the attempt files of workers in processes of their own. */
const DRAIN_INTERVAL_MS = 1000;

/** The job history of one server process: what its in-process runtime records into, and the pipeline's consumer. */
export interface AnalyticsRun {
  /** The in-process runtime's recorder (writes straight into the history); null with `ANALYTICS_HISTORY=false`. */
  recorder: AttemptRecorder | null;
  /** Stops the consumer and closes its connection. */
  stop(): Promise<void>;
}

/**
 * Starts the history's intake. Attempts of an in-process runtime go straight to the database through
 * {@link AnalyticsRun.recorder}. On JetStream (separate workers publish their attempts on
 * `analytics.attempts`), every node also pulls from the shared durable consumer and writes what it
 * takes: each record is written by one node, and again harmlessly after a crash. The connection is
 * made in the background, retried while NATS is unreachable (the server starts anyway). On the
 * directory queue, a worker in a process of its own leaves files in `DATA_DIR/analytics/attempts`,
 * taken in every second.
 */
export function startAnalytics(deps: AnalyticsDeps): AnalyticsRun {
  const { config, logger } = deps;
  if (!config.analytics.history) return { recorder: null, stop: async () => undefined };
  const writer = new HistoryWriter({ history: deps.history, records: deps.records, catalogue: deps.catalogue });
  const queue = config.processing.queue;
  if (queue.kind !== 'jetstream') {
    const dir = attemptsDir(config.dataDir);
    let draining: Promise<unknown> = Promise.resolve();
    const timer = setInterval(() => {
      draining = drainAttempts(dir, (batch) => writer.write(batch)).catch((err) => logger.warn('worker attempt files not taken in; next time', { err: (err as Error).message }));
    }, DRAIN_INTERVAL_MS);
    timer.unref();
    return {
      recorder: writer,
      stop: async () => {
        clearInterval(timer);
        await draining;
        await drainAttempts(dir, (batch) => writer.write(batch)).catch(() => undefined);
      },
    };
  }
  const consumer = consumeAttempts(queue.servers, queue.streams, {
    name: `${config.nodeName}-analytics`, logger: logger.child({ component: 'analytics' }), write: (batch) => writer.write(batch),
  });
  return { recorder: writer, stop: () => consumer.stop() };
}

/**
 * Records an upload in the usage history: `finished` (at its hand-over to the catalogue, with its
 * bytes) or `abandoned` (expired unfinished). Idempotent by upload id; a failure is logged, never
 * passed on (usage is not worth failing an upload for).
 */
export async function recordUploadUsage(deps: UsageDeps, record: UploadRecord, event: 'finished' | 'abandoned'): Promise<void> {
  if (!deps.config.analytics.history) return;
  try {
    await deps.history.recordUsage({
      uploadId: record.id, tenant: record.tenant ?? '', owner: record.owner ?? '', event,
      bytes: event === 'finished' ? (record.size ?? 0) : 0,
      at: (event === 'finished' ? record.completedAt : undefined) ?? deps.now().toISOString(),
    });
  } catch (err) {
    deps.logger.warn('upload usage not recorded', { uploadId: record.id, event, err: (err as Error).message });
  }
}
