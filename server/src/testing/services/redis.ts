/**
 * A real `redis-server` on 127.0.0.1, as a child process we own (not daemonized), in a temp dir.
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

export interface RedisHandle {
  /** `redis://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** PID of the current process (changes on restart). */
  readonly pid: number;
  /** Temp dir holding the log (and the working dir). */
  dir: string;
  /** SIGTERM (SIGKILL after 5 s), then removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Stops the process and starts it again on the same port and dir. Data survives only with `persist`. */
  restart(): Promise<void>;
}

/**
 * Starts `redis-server --port N --bind 127.0.0.1 --save '' --appendonly no` and waits for `PING` to
 * answer `+PONG`.
 *
 * @example
 * const redis = await startRedis();
 * const client = new Redis(redis.url);
 * // ...
 * await redis.stop();
 */
export interface RedisOptions extends ServiceOptions {
  /** Keep data across `restart()` with an fsync-always append-only file, as a production Redis would. */
  persist?: boolean;
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisHandle> {
  const timeoutMs = options.timeoutMs ?? START_TIMEOUT_MS;
  const dir = await makeTempDir('tus-edge-redis-');
  const spec = (port: number): ProcessSpec => ({
    name: 'redis-server',
    command: 'redis-server',
    // Positional config file omitted: every setting is given here. `--logfile ''` logs to stdout.
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', options.persist ? 'yes' : 'no', '--appendfsync', 'always', '--daemonize', 'no', '--dir', dir, '--logfile', ''],
    logFile: path.join(dir, 'redis.log'),
    cwd: dir,
  });
  const launch = async (port: number): Promise<ManagedProcess> => {
    const [proc] = await launchAll(`redis-server on port ${port}`, [spec(port)], (procs) =>
      waitFor('redis', timeoutMs, procs, async () => ((await tcpExchange(port, 'PING\r\n', (r) => r.includes('\r\n'))).startsWith('+PONG') ? true : undefined)),
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
    url: `redis://127.0.0.1:${port}`,
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
      if (stopped) throw new Error('redis: restart() after stop()');
      await proc.stop();
      proc = await launch(port);
    },
  };
}
