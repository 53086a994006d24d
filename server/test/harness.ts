/**
 * Starts the real server in this process, on 127.0.0.1 with a random port and a fresh temp DATA_DIR,
 * for the server's integration tests. Child-process servers and the backing services are in
 * `@tus-edge/testkit`.
 */
import { spawn } from 'node:child_process';
import fsp from 'node:fs/promises';
import { freePort, REPO_ROOT, tempDir } from '@tus-edge/testkit';
import { parseConfig } from '../src/config/config.js';
import type { RawEnv } from '../src/config/config.js';
import type { Overrides } from '../src/context.js';
import { startServer, type RunningServer } from '../src/server.js';

export { freePort, MAIN_JS, REPO_ROOT, spawnServer, tempDir, type SpawnedServer } from '@tus-edge/testkit';

export interface TestServer extends RunningServer {
  /** `${url}/files` */
  tusUrl: string;
  dataDir: string;
  /** Stops the server and deletes its DATA_DIR. */
  close(): Promise<void>;
}

/** Starts the server in this process. `env` uses the same names as the real environment. */
export async function startTestServer(env: RawEnv = {}, overrides: Overrides = {}): Promise<TestServer> {
  const dataDir = env.DATA_DIR ?? (await tempDir());
  const config = parseConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', SHUTDOWN_TIMEOUT_MS: '2000', ...env, DATA_DIR: dataDir });
  const running = await startServer(config, overrides);
  return {
    ...running,
    tusUrl: `${running.url}${config.tusPath}`,
    dataDir,
    close: async () => {
      await running.stop();
      if (!env.DATA_DIR) await fsp.rm(dataDir, { recursive: true, force: true });
    },
  };
}


export interface NpmStarted {
  /** `http://127.0.0.1:<port>` */
  base: string;
  dataDir: string;
  /** What the process printed so far (stdout and stderr), for assertion messages. */
  output(): string;
  /** SIGTERM to the whole process group (npm and the server), then waits for npm to exit. */
  stop(): Promise<void>;
}

/**
 * Runs what a user runs: `PORT=<p> DATA_DIR=<d> npm start` from the repository root (the embedded
 * default, auth off), in its own process group, and waits until `/readyz` answers 200 (within
 * `readyWithinMs`; it throws with the output otherwise, after stopping it).
 */
export async function startNpmStart(env: Record<string, string> = {}, readyWithinMs = 150_000): Promise<NpmStarted> {
  const port = await freePort();
  const dataDir = env.DATA_DIR ?? (await tempDir());
  const child = spawn('npm', ['start', '--silent'], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const base = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGTERM');
    await exited;
  };
  const deadline = Date.now() + readyWithinMs;
  let ready = false;
  while (!ready && Date.now() < deadline && child.exitCode === null) {
    ready = await fetch(`${base}/readyz`).then((r) => r.status === 200, () => false);
    if (!ready) await new Promise((r) => setTimeout(r, 100));
  }
  if (!ready) {
    await stop();
    throw new Error(`npm start was not ready within ${readyWithinMs} ms:\n${out}`);
  }
  return { base, dataDir, output: () => out, stop };
}
