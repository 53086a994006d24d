/**
 * A real `redis-server` on 127.0.0.1, as a child process we own (not daemonized), in a temp dir.
 */
import path from 'node:path';
import { startDaemon, type DaemonHandle } from './daemon.js';
import { tcpExchange, type ProcessSpec, type ServiceOptions } from './process.js';

export interface RedisHandle extends DaemonHandle {
  /** `redis://127.0.0.1:PORT` */
  url: string;
}

export interface RedisOptions extends ServiceOptions {
  /** Keep data across `restart()` with an fsync-always append-only file, as a production Redis would. */
  persist?: boolean;
}

/**
 * Starts `redis-server --port N --bind 127.0.0.1 --save ''` (append-only file only with `persist`) and waits for `PING` to
 * answer `+PONG`.
 *
 * @example
 * const redis = await startRedis();
 * const client = new Redis(redis.url);
 * // ...
 * await redis.stop();
 */
export async function startRedis(options: RedisOptions = {}): Promise<RedisHandle> {
  const daemon = await startDaemon({
    name: 'redis',
    timeoutMs: options.timeoutMs,
    process: (port, dir): ProcessSpec => ({
      name: 'redis-server',
      command: 'redis-server',
      // Positional config file omitted: every setting is given here. `--logfile ''` logs to stdout.
      args: [
        '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', options.persist ? 'yes' : 'no',
        '--appendfsync', 'always', '--daemonize', 'no', '--dir', dir, '--logfile', '',
      ],
      logFile: path.join(dir, 'redis.log'),
      cwd: dir,
    }),
    ready: async (port) => (await tcpExchange(port, 'PING\r\n', (r) => r.includes('\r\n'))).startsWith('+PONG'),
  });
  return Object.assign(daemon, { url: `redis://127.0.0.1:${daemon.port}` });
}
