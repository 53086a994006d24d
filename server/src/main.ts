import { ConfigError } from './config/config.js';
import { loadConfig } from './config/env.js';
import { startServer } from './server.js';

/** Process entry point: config from the environment, start, stop on SIGTERM/SIGINT with exit 0. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const running = await startServer(config);
  let signalled = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (signalled) return;
      signalled = true;
      running.deps.logger.info('shutting down', { signal });
      running.stop().then(
        () => process.exit(0),
        (err) => {
          running.deps.logger.error('shutdown failed', { err });
          process.exit(1);
        },
      );
    });
  }
}

main().catch((err) => {
  process.stderr.write(`fatal: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
