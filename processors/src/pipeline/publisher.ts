import type { UploadCompletedEvent } from './event.js';

/**
 * Where completion events go. `publish` resolves only once the event is durable; publishing the same
 * event twice is harmless (implementations key it by `eventId`). Implementations: the directory outbox
 * ({@link DirectoryOutbox}, embedded), JetStream ({@link JetStreamEventPublisher}, and the server's
 * reconnecting {@link JetStreamLink}), the server's durable outbox in front of JetStream, and a memory
 * one in the test kit. All of them pass the contract suite `eventPublisherContract` of the test kit.
 */
export interface EventPublisher {
  publish(event: UploadCompletedEvent): Promise<void>;
}
