/**
 * Public surface of the processors package. The server imports from here:
 * - the pipeline contract between the packages (`pipeline/`): the `uploads.completed` event, the
 *   `EventPublisher` port and its implementations (the directory outbox `DirectoryOutbox`, JetStream
 *   through `JetStreamLink`), and the job sources that read them;
 * - embedded mode: `startRuntime({ config: parseConfig(env), openStream, http: false, registry, logger })`;
 * - distributed mode: `createStatusStore(config)` to read and subscribe to processing status;
 * - the results API: `createResultStore(config, s3?)` to read what the processors stored;
 * - both packages: `createS3Client`, the one S3 client factory for S3-compatible stores.
 * Test helpers (fake OpenAI server, test documents and videos, scripted processors, a memory
 * publisher, the contract suites) are in the test kit (`tests/kit`, `@tus-edge/testkit`); nothing here
 * imports them.
 */
export type { UploadCompletedEvent, UploadLocation } from './pipeline/event.js';
export { parseUploadCompletedEvent, uploadEventId, type ProcessRequestInfo } from './pipeline/event.js';
export { ConfigError, LOG_LEVELS, parseBoolean, parseDuration, parseInteger, parseLogLevel, parseSize, type LogLevel } from './common/config-parse.js';
export { ENV_KEYS, parseConfig, parsePipelineConfig, PROCESSOR_KIND_NAMES, type RawEnv } from './config/config.js';
export type { DocumentsConfig, OpenAIConfig, PipelineConfig, ProcessorKindName, ProcessorsConfig, QueueConfig, S3ReadConfig, StatusConfig, StreamSettings, Retention, VideoConfig } from './config/config.js';
export { loadConfig, readEnv } from './config/env.js';
export { ERRORS, ProcessingError, classifyError, notApplicable, permanentError, type ErrorCode } from './errors.js';
export { createLogger, silentLogger, type Logger, type LogFields } from './logger.js';
export { LANES, type DeadLetterInfo, type DeadLetterRecord, type Job, type JobSource, type Lane, type PendingCount, type RouteFn, type SourceStartOptions } from './pipeline/job-source.js';
export { backoffDelay, chooseLane } from './jobs/policy.js';
export {
  CHAPTER_LIMITS, GenerateOptionsSchema, KIND_OPTION_SCHEMAS, KindOptionsSchema, optionsOf, READING_LEVELS, REQUEST_KINDS, TEMPLATE_REF, VideoOptionsSchema,
  type GenerateRequestOptions, type KindOptions, type RequestKind, type VideoOptions,
} from './jobs/options.js';
export { parseTemplate, PromptLibrary, PROMPTS_DIR, render, type PromptTemplate, type TemplateUse } from './processors/generate/prompts.js';
export { archiveRun, manifestName, versionName, versionsOf, versionsOfKind, type ResultVersion } from './results/versions.js';
export { DirectorySource, type DirectorySourceOptions } from './pipeline/directory/source.js';
export { JetStreamSource, type JetStreamSourceOptions } from './pipeline/jetstream/source.js';
export { connectNats } from './pipeline/jetstream/connect.js';
export { ATTEMPTS_CONSUMER, dispatchConsumer, STREAMS, SUBJECTS, ensureStreams, jobConsumer } from './pipeline/jetstream/streams.js';
export type { EventPublisher } from './pipeline/publisher.js';
export { DirectoryOutbox } from './pipeline/directory/outbox.js';
export { JetStreamEventPublisher } from './pipeline/jetstream/publisher.js';
export { JetStreamLink } from './pipeline/jetstream/link.js';
export { AttemptTrace, parseJobAttempt, type AttemptOutcome, type AttemptRecorder, type JobAttempt } from './pipeline/attempts.js';
export { attemptsDir, DirectoryAttemptRecorder, drainAttempts } from './pipeline/directory/attempts.js';
export { consumeAttempts, JetStreamAttemptConsumer, JetStreamAttemptPublisher, type AttemptConsumerOptions } from './pipeline/jetstream/attempts.js';
export { DurableConsumer, ensureWorkQueueStream, publishOnce, type DurableConsumerOptions, type DurableMessage, type Handled, type NatsConnection } from './pipeline/jetstream/durable.js';
export { JetStreamOutcomePublisher, outcomeOf, type MediaOutcome, type OutcomePublisher } from './outcomes.js';
export { FileStatusStore } from './status/file.js';
export { MemoryStatusStore } from './status/memory.js';
export { RedisStatusStore, type RedisStatusStoreOptions } from './status/redis.js';
export { applyClaim, jobOfRun, runOf, TERMINAL_STATES, type PreviousRun, type StatusClaim, type JobState, type JobStatus, type ProcessingStatus, type StatusListener, type StatusStore, type StatusUpdate } from './status/types.js';
export { FingerprintProcessor, type FingerprintResult } from './processors/fingerprint.js';
export { sniff } from './processors/sniff.js';
export type { OpenStream, Processor, ProcessorContext, ProcessorResult, SniffedType } from './processors/types.js';
export { defaultProcessors, type DefaultProcessorDeps } from './processors/defaults.js';
export { VideoProcessor, type VideoProcessorOptions } from './processors/video/video.js';
export { DocumentsProcessor, type DocumentsResult } from './processors/documents/documents.js';
export { GenerateProcessor, type GeneratedContent } from './processors/generate/generate.js';
export type { Chapter, QuizQuestion } from './processors/generate/schema.js';
export type { ExtractedText, TextSegment } from './processors/text.js';
export { FileResultStore } from './results/file.js';
export { S3ResultStore, type ResultsS3API } from './results/s3.js';
export { createResultStore, createResultStores, resultsDir } from './results/choose.js';
export { contentTypeOf, isResultName, isVersionArtifact, RESULT_NAME, uploadResults, type ByteRange, type ResultBody, type ResultFile, type ResultStore } from './results/types.js';
export { createUploadAccess, type RandomAccess, type UploadAccess } from './storage/access.js';
export { createS3Client, type S3ClientSettings } from './common/s3-client.js';
export { RuntimeMetrics } from './runtime/metrics.js';
export { createStatusStore, startRuntime, type Runtime, type RuntimeOptions } from './runtime/runtime.js';
export { LocalJobLeases, type LeaseTable } from './leases/local.js';
export type { JobLeases } from './leases/types.js';
export { waitForJobs, waitForStatus } from './runtime/wait-status.js';
export { CircuitBreaker, CircuitOpenError, CIRCUIT_STATE_VALUE, type BreakerSettings, type CircuitState } from './common/breaker.js';
export { Bulkhead } from './common/bulkhead.js';
export { Circuits } from './common/circuits.js';
export { connectRedis, guardRedis, redisUnavailable, RedisUnavailableError, type RedisGuardSettings } from './common/redis-guard.js';
export { startTracing, type Tracing, type TracingConfig } from './tracing/tracing.js';
export { activeTraceId, contextFrom, inSpan, traceparentOf, tracer } from './tracing/spans.js';
export { laneOf, QueueUnavailableError, toDeadLetter, type DeadLetter, type DeadLetterPage, type QueueAdmin, type QueueDepth, type RequeueOutcome } from './pipeline/queue-admin.js';
export { retryDeadLetter, type RetryOutcome } from './runtime/dead-letters.js';
export { DirectoryQueueAdmin } from './pipeline/directory/admin.js';
export { JetStreamQueueAdmin } from './pipeline/jetstream/admin.js';
