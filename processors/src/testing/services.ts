/**
 * Test helpers of the processors package: a real nats-server (JetStream) and redis-server on
 * 127.0.0.1 with random free ports and temp dirs, stopped by PID. Bounded: a start that does not
 * become reachable within 20 s fails and kills what it started. Never used by production code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export async function tempDir(prefix = 'processors-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface ServiceHandle {
  url: string;
  port: number;
  dir: string;
  pid(): number;
  /** Output printed so far by the current process. */
  output(): string;
  /** SIGTERM (SIGKILL after 5 s) by PID; keeps the data dir. */
  halt(): Promise<void>;
  /** Starts again on the same port and data dir. */
  restart(): Promise<void>;
  /** Halts and removes the data dir. */
  stop(): Promise<void>;
}

async function startService(name: string, scheme: string, args: (port: number, dir: string) => string[], readyLine: RegExp): Promise<ServiceHandle> {
  const dir = await tempDir(`${name}-`);
  const port = await freePort();
  let child: ChildProcess | null = null;
  let out = '';
  const launch = async () => {
    out = '';
    const c = spawn(name, args(port, dir), { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    children.add(c);
    c.stdout?.on('data', (d) => (out += d));
    c.stderr?.on('data', (d) => (out += d));
    c.once('exit', () => children.delete(c));
    const deadline = Date.now() + 20_000;
    while (!(readyLine.test(out) && (await canConnect(port)))) {
      if (c.exitCode !== null) throw new Error(`${name} exited (${c.exitCode}):\n${out}`);
      if (Date.now() > deadline) {
        c.kill('SIGKILL');
        throw new Error(`${name} not ready within 20 s:\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const halt = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  await launch();
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    dir,
    pid: () => child?.pid ?? -1,
    output: () => out,
    halt,
    restart: async () => {
      await halt();
      await launch();
    },
    stop: async () => {
      await halt();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** `nats-server -js -a 127.0.0.1 -p <port> -sd <tmp>`. */
export function startNats(): Promise<ServiceHandle> {
  return startService('nats-server', 'nats', (port, dir) => ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], /Server is ready/);
}

/** `redis-server` in the foreground, no persistence. */
export function startRedis(): Promise<ServiceHandle> {
  return startService(
    'redis-server',
    'redis',
    (port, dir) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    /Ready to accept connections/,
  );
}
