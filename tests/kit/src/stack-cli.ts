/**
 * `npm run stack`: starts the local multi-node stack (see `stack.ts`), prints where everything is,
 * and waits. SIGINT / SIGTERM stop everything and exit 0.
 *
 * Environment: `STACK_NODES` (default 3); `TEST_S3_ENDPOINT`, `TEST_S3_ACCESS_KEY_ID`,
 * `TEST_S3_SECRET_ACCESS_KEY`, `TEST_S3_REGION` to use an external S3 (e.g. MinIO) instead of Swift.
 */
import { killAllSync } from './services/process.js';
import { startStack, type Stack } from './stack.js';

/** Single-quotes `value` for a POSIX shell. */
function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

function describeStack(stack: Stack): string {
  const tusPath = stack.env.TUS_PATH ?? '/files';
  const row = (label: string, value: string): string => `  ${label.padEnd(20)} ${value}`;
  const lines = [
    `tus-edge stack is up: ${stack.nodes.length} node(s) behind nginx`,
    '',
    row('nginx (round robin)', `${stack.url}   tus endpoint: ${stack.url}${tusPath}`),
    ...stack.nodes.map((n) => row(n.name, `${n.url}   pid ${n.pid}, log ${n.logFile}`)),
    row('redis', stack.redis.url),
    row('nats (JetStream)', stack.nats.url),
    row(`s3 (${stack.s3.kind})`, `${stack.s3.endpoint}   bucket ${stack.s3.bucket}`),
    '',
    '# Environment to point another process (npm run processors, k6, ...) at this stack:',
  ];
  for (const [key, value] of Object.entries(stack.env)) {
    if (key === 'HOST' || key === 'LOG_LEVEL') continue; // node settings, not shared services
    lines.push(`export ${key}=${shellQuote(value)}`);
  }
  lines.push(`export TUS_URL=${shellQuote(`${stack.url}${tusPath}`)}`, '', 'Press Ctrl-C to stop.');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const raw = process.env.STACK_NODES ?? '3';
  const nodes = Number(raw);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 64) {
    console.error(`STACK_NODES must be an integer from 1 to 64, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }

  let stack: Stack | undefined;
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    if (!stack) {
      // Still starting: nothing to stop gracefully yet.
      console.error(`\n${signal}: aborting start-up`);
      killAllSync();
      process.exit(0);
    }
    console.error(`\n${signal}: stopping the stack...`);
    stack.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('stop failed:', err);
        killAllSync();
        process.exit(0);
      },
    );
  };
  // Registered before anything starts, so the services' own signal cleanup defers to this one.
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  console.error(`starting Redis, NATS, S3, ${nodes} node(s) and nginx...`);
  const started = Date.now();
  stack = await startStack({ nodes });
  console.log(describeStack(stack));
  console.error(`(started in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  // Stay alive until a signal arrives.
  setInterval(() => undefined, 1 << 30);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
