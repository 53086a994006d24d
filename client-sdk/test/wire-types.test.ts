import { describe, expectTypeOf, it } from 'vitest';
import type * as Processors from '@tus-edge/processors';
import type * as Sdk from '../src/types.js';

/**
 * The SDK cannot depend on the processors package (it runs in browsers), so `src/types.ts` restates the
 * JSON the processors write. These checks fail the type-check (`npm test` runs it) the day the two drift:
 * whatever the processors write must fit what the SDK declares.
 */
describe('the SDK types the JSON the processors write', () => {
  it('processing status', () => {
    expectTypeOf<Processors.JobState>().toEqualTypeOf<Sdk.JobState>();
    expectTypeOf<Processors.JobStatus>().toExtend<Sdk.JobStatus>();
    expectTypeOf<Processors.ProcessingStatus>().toExtend<Sdk.ProcessingStatus>();
  });

  it('extracted text and generated content', () => {
    expectTypeOf<Processors.TextSegment>().toExtend<Sdk.TextSegment>();
    expectTypeOf<Processors.ExtractedText>().toExtend<Sdk.ExtractedText>();
    expectTypeOf<Processors.Chapter>().toExtend<Sdk.Chapter>();
    expectTypeOf<Processors.QuizQuestion>().toExtend<Sdk.QuizQuestion>();
  });
});
