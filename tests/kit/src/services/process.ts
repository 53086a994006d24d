/**
 * Child processes for test services (Redis, NATS, Swift, nginx, server nodes): spawn with output going
 * straight to a log file, wait for readiness within a deadline, stop by PID (SIGTERM, then SIGKILL).
 *
 * Every process and temp dir made here is recorded in one process-wide registry so that a test run
 * that crashes (or is interrupted) SIGKILLs whatever is still running and removes the temp dirs. That
 * registry is the one piece of global state in the test services, on purpose: cleanup at exit is
 * global by nature.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Default bound on every start (and restart) of a service. */
export const START_TIMEOUT_MS = 30_000;
/** How long `stop()` waits after SIGTERM before it sends SIGKILL. */
export const STOP_TIMEOUT_MS = 5_000;

/** Options every `start*()` function accepts. */
export interface ServiceOptions {
  /** Bound on start and on each restart (default 30 s). */
  timeoutMs?: number;
}

export interface ProcessSpec {
  /** Short name used in errors, e.g. `redis` or `swift-proxy`. */
  name: string;
  command: string;
  args: string[];
  /** Output (stdout and stderr) is appended here. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves once the process has exited (with its exit code, or null when killed by a signal). */
  readonly exited: Promise<number | null>;
  running(): boolean;
  /** Sends `signal` (default SIGTERM); after `timeoutMs` sends SIGKILL. Resolves once it has exited. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let hooksInstalled = false;

/** SIGKILLs every process started here that is still running, and removes registered temp dirs. */
export function killAllSync(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  live.clear();
  for (const dir of liveDirs) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
  liveDirs.clear();
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllSync);
  // A signal does not emit 'exit'. Clean up and re-raise it, unless someone else (e.g. the stack CLI)
  // handles the signal: then they own the shutdown and we stay out of the way.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(signal) > 1) return;
      killAllSync();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** A fresh temp dir, removed at exit unless {@link removeTempDir} was called first. */
export async function makeTempDir(prefix: string): Promise<string> {
  installExitHooks();
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), prefix));
  liveDirs.add(dir);
  return dir;
}

export async function removeTempDir(dir: string): Promise<void> {
  liveDirs.delete(dir);
  await fsp.rm(dir, { recursive: true, force: true, maxRetries: 2 });
}

/**
 * The executable for `command`: as given when it contains a `/`, else the first match on PATH, then
 * in the sbin dirs (Debian puts nginx and nats-server in /usr/sbin, often missing from a user's PATH).
 */
export function resolveCommand(command: string, searchPath = process.env.PATH ?? ''): string {
  if (command.includes('/')) return command;
  const dirs = [...searchPath.split(path.delimiter).filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      /* not here */
    }
  }
  throw new Error(`cannot find "${command}" on PATH or in /usr/sbin: run scripts/install-test-deps.sh`);
}

/** Spawns `spec` detached from our stdio; output goes to `spec.logFile` (appended). */
export async function spawnProcess(spec: ProcessSpec): Promise<ManagedProcess> {
  installExitHooks();
  const command = resolveCommand(spec.command);
  const fd = fs.openSync(spec.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, spec.args, { cwd: spec.cwd, env: spec.env ?? process.env, stdio: ['ignore', fd, fd] });
  } finally {
    fs.closeSync(fd);
  }
  if (child.pid === undefined) {
    const err = await new Promise<Error>((resolve) => child.once('error', resolve));
    const hint = (err as NodeJS.ErrnoException).code === 'ENOENT' ? ' (run scripts/install-test-deps.sh)' : '';
    throw new Error(`cannot start ${spec.name}: ${command}: ${err.message}${hint}`);
  }
  live.add(child);
  const pid = child.pid;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    name: spec.name,
    pid,
    logFile: spec.logFile,
    exited,
    running,
    stop: async (signal = 'SIGTERM', timeoutMs = STOP_TIMEOUT_MS) => {
      if (!running()) return;
      child.kill(signal);
      const timer = setTimeout(() => running() && child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The last `bytes` of a log file ('' when it does not exist). */
export function logTail(file: string, bytes = 4000): string {
  try {
    const { size } = fs.statSync(file);
    const fd = fs.openSync(file, 'r');
    try {
      const start = Math.max(0, size - bytes);
      const buf = Buffer.alloc(size - start);
      fs.readSync(fd, buf, 0, buf.length, start);
      return buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

/** Formats the log tails of `procs` for an error message. */
export function tails(procs: ManagedProcess[], bytes = 3000): string {
  return procs.map((p) => `--- ${p.name} (${p.logFile}) ---\n${logTail(p.logFile, bytes).trimEnd()}`).join('\n');
}

/**
 * Polls `probe` (every 100 ms) until it returns something other than `undefined`. Fails early when
 * one of `procs` exits, and after `timeoutMs`. The last probe error is part of the message.
 */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  procs: ManagedProcess[],
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const dead = procs.find((p) => !p.running());
    if (dead) throw new Error(`${dead.name} (pid ${dead.pid}) exited before ${what} was ready`);
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      throw new Error(`${what} not ready within ${Math.round(timeoutMs / 100) / 10} s${last ? ` (last error: ${last})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts `procs` with `launch`, waits with `ready`; when either fails, stops whatever was started
 * (SIGKILL) and throws an error that carries the log tails. Returns the started processes.
 */
export async function launchAll(
  what: string,
  specs: ProcessSpec[],
  ready: (procs: ManagedProcess[]) => Promise<unknown>,
): Promise<ManagedProcess[]> {
  const procs: ManagedProcess[] = [];
  try {
    for (const spec of specs) procs.push(await spawnProcess(spec));
    await ready(procs);
    return procs;
  } catch (err) {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`${what} failed to start: ${message}\n${tails(procs)}`, { cause: err });
  }
}

/** True when a start failure looks like a port clash (someone took the port we picked). */
export function isPortClash(err: unknown): boolean {
  const text = err instanceof Error ? err.message : String(err);
  return /address already in use|EADDRINUSE|could not bind|errno 98/i.test(text);
}

/** Runs `start` (which picks fresh ports) again, up to `attempts` times, while it fails on a port clash. */
export async function retryOnPortClash<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await start();
    } catch (err) {
      if (i >= attempts || !isPortClash(err)) throw err;
    }
  }
}

/**
 * Opens a TCP connection to 127.0.0.1:`port`, writes `send` (if any) and collects what arrives until
 * `done(received)` is true. Rejects on connection error or after `timeoutMs`.
 */
export function tcpExchange(port: number, send: string | undefined, done: (received: string) => boolean, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = net.connect({ port, host: '127.0.0.1' });
    const timer = setTimeout(() => finish(new Error(`no answer on port ${port} within ${timeoutMs} ms`)), timeoutMs);
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(received);
    };
    socket.setEncoding('utf8');
    socket.once('connect', () => send !== undefined && socket.write(send));
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (done(received)) finish();
    });
    socket.once('error', (err) => finish(err));
    socket.once('close', () => finish(new Error(`port ${port} closed the connection after ${JSON.stringify(received)}`)));
  });
}

/** Resolves when 127.0.0.1:`port` accepts a TCP connection. */
export function tcpOpen(port: number, timeoutMs = 1_000): Promise<true> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to port ${port} timed out`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
