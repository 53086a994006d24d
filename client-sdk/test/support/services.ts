/**
 * The real services the browser tests run against, from the repository's test tooling: the compiled
 * server as its own process, the multi-node stack, the fake OpenAI and test media. One import site,
 * so a move of that tooling changes this file only.
 */
export { spawnServer, tempDir, type SpawnedServer } from '../../../server/src/testing/harness.js';
export { startStack, type Stack } from '../../../server/src/testing/stack.js';
export { makeVideo, startFakeOpenAI, type FakeOpenAI } from '@tus-edge/processors/testing';
export { makePdf } from '@tus-edge/processors/testing';
