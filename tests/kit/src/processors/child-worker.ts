/**
 * A worker process for tests: the real runtime (config from the environment, like `npm run processors`)
 * with a {@link ScriptedProcessor} of kind `CHILD_KIND` (default `work`) that logs to `CHILD_LOG` and
 * takes `CHILD_JOB_MS` (default 60000) per job. Drains on SIGTERM and exits 0.
 */
import { loadConfig, startRuntime } from '@tus-edge/processors';
import { ScriptedProcessor, wait } from './processors.js';

const jobMs = Number(process.env.CHILD_JOB_MS ?? 60_000);
const processor = new ScriptedProcessor(
  process.env.CHILD_KIND ?? 'work',
  async (_event, ctx) => {
    await wait(jobMs, ctx.signal);
    return { result: {} };
  },
  `child-${process.pid}`,
  process.env.CHILD_LOG,
);
const runtime = await startRuntime({ config: loadConfig(), processors: [processor], http: false });
process.stdout.write('CHILD-READY\n');
process.once('SIGTERM', () => {
  runtime.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
