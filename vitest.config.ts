import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'all',
          include: [
            '{server,processors,client-sdk}/src/**/*.test.ts',
            '{server,client-sdk}/test/**/*.test.ts',
            'tests/kit/src/**/*.test.ts',
            'loadtests/**/*.test.ts',
            'deploy/test/*.test.ts',
          ],
          exclude: ['**/node_modules/**', '**/dist/**'],
        },
      },
      // The tus protocol suite once more, with the server on S3 storage and Redis records and locks.
      {
        extends: true,
        test: {
          name: 'spec-distributed',
          include: ['server/test/spec/*.test.ts'],
          globalSetup: ['server/test/distributed-setup.ts'],
        },
      },
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real processes and bind ports; the machine has 2 cores.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
