/**
 * Real server processes for tests, benchmarks and the local stack: `node server/dist/main.js` (what
 * `npm start` runs after building) on 127.0.0.1 with a random port and a fresh temp DATA_DIR.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const MAIN_JS = path.join(REPO_ROOT, 'server/dist/main.js');

/** Server environment variables by their real names (PORT, DATA_DIR, S3_BUCKET…). */
export type ServerEnv = Partial<Record<string, string>>;

export async function tempDir(prefix = 'tus-edge-'): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), prefix));
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

export interface SpawnedServer {
  url: string;
  tusUrl: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** SIGKILL, then wait for exit. */
  kill(): Promise<void>;
  /** SIGTERM, then wait for exit; returns the exit code. */
  terminate(): Promise<number | null>;
}

/**
 * Runs `node server/dist/main.js` (what `npm start` runs after building) as a child process and waits
 * for `GET /readyz` to answer 200 (unless `options.waitReady` is false: a test that kills the process
 * during its start-up work gets it at once). Reuses `dataDir` when given, so a restarted server sees old uploads.
 */
export async function spawnServer(env: ServerEnv = {}, dataDir?: string, options: { waitReady?: boolean } = {}): Promise<SpawnedServer> {
  if (!fs.existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run "npm run build" first`);
  const dir = dataDir ?? (await tempDir());
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const child = spawn(process.execPath, [MAIN_JS], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env, PORT: String(port), DATA_DIR: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (; options.waitReady !== false; ) {
    if (child.exitCode !== null) throw new Error(`server exited early (${child.exitCode}):\n${out}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server not ready within 20s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    tusUrl: `${url}${env.TUS_PATH ?? '/files'}`,
    port,
    dataDir: dir,
    child,
    output: () => out,
    exited,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    terminate: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

export interface ProcessorWorker {
  /** Port of its `/healthz`, `/readyz`, `/metrics`. */
  port: number;
  child: ChildProcess;
  /** SIGTERM, then waits for it to exit. Idempotent. */
  stop(): Promise<void>;
}

/**
 * A processor worker of its own (`processors/dist/main.js`, what `npm run processors` runs) on
 * 127.0.0.1, with `env` (`DATA_DIR`, `PROCESSOR_KINDS`, the queue's variables…; only `PATH` is taken
 * from this process), ready once its `/readyz` answers 200 (within `readyWithinMs`, else it throws).
 */
export async function startProcessorWorker(env: ServerEnv, readyWithinMs = 30_000): Promise<ProcessorWorker> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'processors/dist/main.js')], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env, PROCESSORS_PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + readyWithinMs;
  while ((await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status).catch(() => 0)) !== 200) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error('processor worker did not become ready');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, child, stop };
}
