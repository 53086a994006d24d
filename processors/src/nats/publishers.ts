import type { JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { UploadCompletedEvent } from '../events.js';
import type { MediaOutcome, OutcomePublisher } from '../outcomes.js';
import { SUBJECTS } from './streams.js';

/**
 * Publishes `uploads.completed` with msgID = eventId and resolves once JetStream has stored it.
 * Structurally the server's `EventPublisher`. A duplicate inside the duplicate window is stored once.
 */
export class JetStreamEventPublisher {
  constructor(private readonly js: JetStreamClient) {}

  async publish(event: UploadCompletedEvent): Promise<void> {
    // The trace context rides in the headers too, so a consumer can continue the trace unparsed.
    const h = event.traceparent ? natsHeaders() : undefined;
    if (h && event.traceparent) h.set('traceparent', event.traceparent);
    await this.js.publish(SUBJECTS.uploadCompleted, JSON.stringify(event), { msgID: event.eventId, headers: h });
  }
}

/** Publishes job outcomes on `media.processed` / `media.failed` with msgID = outcome id. */
export class JetStreamOutcomePublisher implements OutcomePublisher {
  constructor(private readonly js: JetStreamClient) {}

  async publish(outcome: MediaOutcome): Promise<void> {
    const subject = outcome.event === 'media.processed' ? SUBJECTS.mediaProcessed : SUBJECTS.mediaFailed;
    await this.js.publish(subject, JSON.stringify(outcome), { msgID: outcome.id });
  }
}
