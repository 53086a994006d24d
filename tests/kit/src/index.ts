/**
 * The test kit (`@tus-edge/testkit`): what the tests of every workspace, the benchmark and the local stack
 * share. Never a dependency of a shipped package.
 * - real backing services on 127.0.0.1 (Redis, NATS JetStream, S3 on Swift or an external endpoint, nginx);
 * - real server processes (`spawnServer`) and the local multi-node stack (`startStack`, `npm run stack`);
 * - the small tus client the tests speak tus with (`tus`);
 * - processors: a fake OpenAI server, test documents and videos, scripted processors, a child worker,
 *   events and a `ProcessorContext` for calling a processor directly;
 * - in-memory test doubles of production ports (`MemoryPublisher`, `MemoryKvStore`).
 * The contract suites are a separate entry point, `@tus-edge/testkit/contracts`.
 */
export * from './services.js';
export * from './server-process.js';
export * from './stack.js';
export * from './distributed.js';
export * from './processors/fake-openai.js';
export * from './processors/documents.js';
export * from './processors/media.js';
export * from './processors/processors.js';
export * from './processors/fixtures.js';
export * from './processors/child.js';
export * from './processors/context.js';
export * from './jwt.js';
export * from './memory.js';
export * from './tus.js';
export * from './otlp.js';
