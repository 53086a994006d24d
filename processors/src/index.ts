/**
 * Public surface of the processor runtime (issue #4). The server imports from here:
 * - embedded mode: `startRuntime({ config: parseConfig(env), openStream, http: false, registry, logger })`;
 * - distributed mode: `createStatusStore(config)` to read/subscribe status, `ensureStreams(jsm, settings)`
 *   and `JetStreamEventPublisher` to publish `uploads.completed`.
 */
export type { UploadCompletedEvent, UploadLocation } from './events.js';
export { parseUploadCompletedEvent } from './events.js';
export { ConfigError, parseConfig, parseDuration, parseSize } from './config/config.js';
export type { LogLevel, ProcessorsConfig, QueueConfig, StatusConfig, StreamSettings, Retention } from './config/config.js';
export { ENV_KEYS, loadConfig, readEnv, type RawEnv } from './config/env.js';
export { ERRORS, ProcessingError, classifyError, permanentError, type ErrorCode } from './errors.js';
export { createLogger, type Logger, type LogFields } from './logger.js';
export { LANES, type DeadLetterRecord, type Job, type JobSource, type Lane, type RouteFn } from './jobs/types.js';
export { backoffDelay, chooseLane } from './jobs/policy.js';
export { DirectorySource, type DirectorySourceOptions } from './sources/directory.js';
export { JetStreamSource, type JetStreamSourceOptions } from './sources/jetstream.js';
export { connectNats } from './nats/connect.js';
export { dispatchConsumer, STREAMS, SUBJECTS, ensureStreams, jobConsumer } from './nats/streams.js';
export { JetStreamEventPublisher, JetStreamOutcomePublisher } from './nats/publishers.js';
export { MemoryOutcomePublisher, outcomeOf, type MediaOutcome, type OutcomePublisher } from './outcomes.js';
export { FileStatusStore } from './status/file.js';
export { MemoryStatusStore } from './status/memory.js';
export { RedisStatusStore, type RedisStatusStoreOptions } from './status/redis.js';
export { TERMINAL_STATES, type JobState, type JobStatus, type ProcessingStatus, type StatusListener, type StatusStore, type StatusUpdate } from './status/types.js';
export { FingerprintProcessor, type FingerprintResult } from './processors/fingerprint.js';
export { sniff } from './processors/sniff.js';
export type { OpenStream, Processor, ProcessorContext, ProcessorResult, SniffedType } from './processors/types.js';
export { RuntimeMetrics } from './runtime/metrics.js';
export { createStatusStore, startRuntime, type Runtime, type RuntimeOptions } from './runtime/runtime.js';
