import { MemoryPublisher } from './memory.js';
import { eventPublisherContract } from './pipeline/publisher.contract.js';

eventPublisherContract('memory (test double)', async () => {
  const publisher = new MemoryPublisher();
  return { publisher, stored: async () => [...publisher.events.values()], cleanup: async () => undefined };
});
