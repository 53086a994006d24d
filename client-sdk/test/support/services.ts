/**
 * The real services the browser tests run against, from the test kit: the compiled server as its own
 * process, the multi-node stack, the fake OpenAI and test media.
 */
export { makePdf, makeVideo, spawnServer, startFakeOpenAI, startStack, tempDir, type FakeOpenAI, type SpawnedServer, type Stack } from '@tus-edge/testkit';
