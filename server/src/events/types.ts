export type { UploadCompletedEvent, UploadLocation } from '@tus-edge/processors';
import type { UploadCompletedEvent } from '@tus-edge/processors';

/**
 * Where completion events go. `publish` resolves only once the event is durable; publishing the same
 * event twice is harmless (implementations key it by `eventId`). Embedded: a directory outbox;
 * distributed: NATS JetStream.
 */
export interface EventPublisher {
  publish(event: UploadCompletedEvent): Promise<void>;
}
