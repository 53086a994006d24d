import type OpenAI from 'openai';
import type { ProcessorKindName, ProcessorsConfig } from '../config/config.js';
import { Bulkhead } from '../common/bulkhead.js';
import type { Circuits } from '../common/circuits.js';
import type { UploadAccess } from '../storage/access.js';
import { DocumentsProcessor } from './documents/documents.js';
import { FingerprintProcessor } from './fingerprint.js';
import { GenerateProcessor } from './generate/generate.js';
import { createOpenAI, type RetryOptions } from './generate/openai.js';
import type { Processor } from './types.js';
import { VideoProcessor } from './video/video.js';

export interface DefaultProcessorDeps {
  /** How media and PDF parsing reach uploads (paths, presigned URLs, ranged reads). */
  access: UploadAccess;
  /** Default: built from `config.openai` (null without a key). */
  openai?: OpenAI | null;
  /** Backoff of the OpenAI retry loop (tests shorten it). */
  retry?: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs' | 'maxRetryAfterMs' | 'guard'>;
  /** Temporary files of the video processor (default the OS temp dir). */
  tmpDir?: string;
  /** The process's breakers and bulkheads: OpenAI calls go through the `openai` ones. */
  circuits?: Circuits;
}

/** The processors named by `PROCESSOR_KINDS` (default all), built once from the configuration. */
export function defaultProcessors(config: ProcessorsConfig, deps: DefaultProcessorDeps): Processor[] {
  const client = deps.openai === undefined ? createOpenAI(config.openai) : deps.openai;
  // One breaker and one bulkhead for the OpenAI client, shared by the generate and video (transcription) jobs.
  const guard = deps.circuits && {
    breaker: deps.circuits.breaker('openai'),
    bulkhead: deps.circuits.addBulkhead(new Bulkhead('openai', config.openai.concurrency)),
  };
  const retry = guard ? { ...deps.retry, guard } : deps.retry;
  const build: Record<ProcessorKindName, () => Processor> = {
    fingerprint: () => new FingerprintProcessor(),
    video: () => new VideoProcessor({ video: config.video, openai: config.openai, client, access: deps.access, retry, tmpDir: deps.tmpDir }),
    documents: () => new DocumentsProcessor(config.documents, deps.access),
    generate: () => new GenerateProcessor({ config: config.openai, client, retry }),
  };
  return config.kinds.map((kind) => build[kind]());
}
