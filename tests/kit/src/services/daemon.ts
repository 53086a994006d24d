/**
 * One server process on a port of its own, in a temp dir, that can be stopped, restarted on the same
 * port and data, or taken down for a while: the common part of the Redis and NATS test services.
 */
import { freePort } from '../server-process.js';
import {
  START_TIMEOUT_MS,
  launchAll,
  makeTempDir,
  removeTempDir,
  retryOnPortClash,
  waitFor,
  type ManagedProcess,
  type ProcessSpec,
} from './process.js';

export interface DaemonSpec {
  /** e.g. `redis-server`; names the temp dir and errors. */
  name: string;
  /** How to run it on `port`, with its data in `dir`. */
  process(port: number, dir: string): ProcessSpec;
  /** Resolves true once the process on `port` serves (polled until `timeoutMs`). */
  ready(port: number): Promise<boolean>;
  timeoutMs?: number;
}

export interface DaemonHandle {
  port: number;
  /** PID of the current process (changes on restart). */
  readonly pid: number;
  /** Temp dir holding the log and the data. */
  dir: string;
  /** SIGTERM (SIGKILL after 5 s), then removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Stops the process and starts it again on the same port and dir. */
  restart(): Promise<void>;
  /** Stops the process only (an outage); `up()` starts it again on the same port and dir. */
  down(): Promise<void>;
  up(): Promise<void>;
}

export async function startDaemon(spec: DaemonSpec): Promise<DaemonHandle> {
  const timeoutMs = spec.timeoutMs ?? START_TIMEOUT_MS;
  const dir = await makeTempDir(`tus-edge-${spec.name}-`);
  const launch = async (port: number): Promise<ManagedProcess> => {
    const [proc] = await launchAll(`${spec.name} on port ${port}`, [spec.process(port, dir)], (procs) =>
      waitFor(spec.name, timeoutMs, procs, async () => ((await spec.ready(port)) ? true : undefined)),
    );
    return proc;
  };

  let port: number;
  let proc: ManagedProcess;
  try {
    ({ port, proc } = await retryOnPortClash(async () => {
      const p = await freePort();
      return { port: p, proc: await launch(p) };
    }));
  } catch (err) {
    await removeTempDir(dir);
    throw err;
  }

  let stopped = false;
  const up = async () => {
    if (stopped) throw new Error(`${spec.name}: started again after stop()`);
    proc = await launch(port);
  };
  const down = () => proc.stop();
  return {
    port,
    get pid() {
      return proc.pid;
    },
    dir,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await proc.stop();
      await removeTempDir(dir);
    },
    restart: async () => {
      await down();
      await up();
    },
    down,
    up,
  };
}
