import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{server,processors,client-sdk}/src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real processes and bind ports; the machine has 2 cores.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
