/**
 * A real `nats-server` with JetStream on 127.0.0.1, as a child process, store dir in a temp dir.
 */
import path from 'node:path';
import { startDaemon, type DaemonHandle } from './daemon.js';
import { tcpExchange, type ProcessSpec, type ServiceOptions } from './process.js';

export interface NatsHandle extends DaemonHandle {
  /** `nats://127.0.0.1:PORT` */
  url: string;
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
  const daemon = await startDaemon({
    name: 'nats',
    timeoutMs: options.timeoutMs,
    process: (port, dir): ProcessSpec => ({
      name: 'nats-server',
      command: 'nats-server',
      // `-a` matters: without it nats-server listens on every interface.
      args: ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', path.join(dir, 'jetstream'), '-n', `test-${port}`],
      logFile: path.join(dir, 'nats.log'),
      cwd: dir,
    }),
    ready: async (port) => (await readNatsInfo(port)).jetstream === true,
  });
  return Object.assign(daemon, { url: `nats://127.0.0.1:${daemon.port}` });
}
