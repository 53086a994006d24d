import type { JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { UploadCompletedEvent } from '../event.js';
import type { EventPublisher } from '../publisher.js';
import { SUBJECTS } from './streams.js';

/**
 * Publishes `uploads.completed` with msgID = eventId and resolves once JetStream has stored it.
 * A duplicate inside the stream's duplicate window is stored once.
 */
export class JetStreamEventPublisher implements EventPublisher {
  constructor(private readonly js: JetStreamClient) {}

  async publish(event: UploadCompletedEvent): Promise<void> {
    // The trace context rides in the headers too, so a consumer can continue the trace unparsed.
    const h = event.traceparent ? natsHeaders() : undefined;
    if (h && event.traceparent) h.set('traceparent', event.traceparent);
    await this.js.publish(SUBJECTS.uploadCompleted, JSON.stringify(event), { msgID: event.eventId, headers: h });
  }
}
