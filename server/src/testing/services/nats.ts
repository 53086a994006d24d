/**
 * A real `nats-server` with JetStream on 127.0.0.1, as a child process, store dir in a temp dir.
 */
import path from 'node:path';
import { freePort } from '../harness.js';
import {
  START_TIMEOUT_MS,
  launchAll,
  makeTempDir,
  removeTempDir,
  retryOnPortClash,
  tcpExchange,
  waitFor,
  type ManagedProcess,
  type ProcessSpec,
  type ServiceOptions,
} from './process.js';

export interface NatsHandle {
  /** `nats://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** PID of the current process (changes on restart). */
  readonly pid: number;
  /** Temp dir holding the log and the JetStream store (`<dir>/jetstream`). */
  dir: string;
  /** SIGTERM (SIGKILL after 5 s), then removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Stops the process and starts it again on the same port and store dir (streams survive). */
  restart(): Promise<void>;
  /** Stops the process only (an outage); `up()` starts it again on the same port and store dir. */
  down(): Promise<void>;
  up(): Promise<void>;
}

/** The JSON of the `INFO {...}` line a NATS server sends first on a new client connection. */
export async function readNatsInfo(port: number, timeoutMs = 2_000): Promise<Record<string, unknown>> {
  const received = await tcpExchange(port, undefined, (r) => r.includes('\r\n'), timeoutMs);
  const line = received.slice(0, received.indexOf('\r\n'));
  if (!line.startsWith('INFO ')) throw new Error(`expected an INFO line, got ${JSON.stringify(line)}`);
  return JSON.parse(line.slice('INFO '.length)) as Record<string, unknown>;
}

/**
 * Starts `nats-server -js -a 127.0.0.1 -p N -sd <dir>/jetstream` and waits until its INFO line says
 * `"jetstream":true`.
 *
 * @example
 * const nats = await startNats();
 * const nc = await connect({ servers: nats.url });
 */
export async function startNats(options: ServiceOptions = {}): Promise<NatsHandle> {
  const timeoutMs = options.timeoutMs ?? START_TIMEOUT_MS;
  const dir = await makeTempDir('tus-edge-nats-');
  const spec = (port: number): ProcessSpec => ({
    name: 'nats-server',
    command: 'nats-server',
    // `-a` matters: without it nats-server listens on every interface.
    args: ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', path.join(dir, 'jetstream'), '-n', `test-${port}`],
    logFile: path.join(dir, 'nats.log'),
    cwd: dir,
  });
  const launch = async (port: number): Promise<ManagedProcess> => {
    const [proc] = await launchAll(`nats-server on port ${port}`, [spec(port)], (procs) =>
      waitFor('nats', timeoutMs, procs, async () => ((await readNatsInfo(port)).jetstream === true ? true : undefined)),
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
  return {
    url: `nats://127.0.0.1:${port}`,
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
      if (stopped) throw new Error('nats: restart() after stop()');
      await proc.stop();
      proc = await launch(port);
    },
    down: async () => {
      await proc.stop();
    },
    up: async () => {
      if (stopped) throw new Error('nats: up() after stop()');
      proc = await launch(port);
    },
  };
}
