/**
 * Test helpers for other workspaces (`@tus-edge/processors/testing`): never imported by production code.
 */
export { resultStoreContract } from '../results/results.contract.js';
export { chatAnswer, startFakeOpenAI, transcriptionAnswer, validStudyContent, type FakeAnswer, type FakeOpenAI, type RecordedRequest } from './fake-openai.js';
export { makeDocx, makePdf, makePptx, makeZip } from './documents.js';
export { haveFfmpeg, makeVideo, probeJson, topLevelBoxes, type TestVideoOptions } from './media.js';
export { testContext, type TestContext } from './context.js';
