import { ConfigError } from './config/config.js';
import { loadConfig } from './config/env.js';
import { startRuntime } from './runtime/runtime.js';
import { s3OpenStream } from './storage/s3.js';
import { startTracing } from './tracing/tracing.js';

/**
 * `npm run processors`: the processor runtime as its own process, configured by the same environment
 * variables as the server. Drains on SIGTERM/SIGINT and exits 0. Invalid configuration exits 2.
 */
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
  // Traces (when OTEL_EXPORTER_OTLP_ENDPOINT is set) start before anything that makes spans.
  const tracing = startTracing(config.tracing, { serviceName: 'tus-edge-processors', nodeName: config.nodeName });
  const runtime = await startRuntime({ config, openStream: s3OpenStream(config.s3) });
  let signalled = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (signalled) return;
      signalled = true;
      runtime.stop().then(() => tracing.shutdown()).then(
        () => process.exit(0),
        (err) => {
          process.stderr.write(`shutdown failed: ${err instanceof Error ? err.stack : String(err)}\n`);
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
