/** Starts `child-worker.js` (beside this file in the kit's dist) (the runtime with a scripted slow processor) as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The built child worker. */
export const CHILD_WORKER_JS = path.join(here, 'child-worker.js');

export interface ChildWorker {
  child: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
  kill(): Promise<void>;
  terminate(): Promise<number | null>;
}

export async function spawnChildWorker(env: Record<string, string>): Promise<ChildWorker> {
  if (!fs.existsSync(CHILD_WORKER_JS)) throw new Error(`${CHILD_WORKER_JS} is missing: run "npx tsc -b" first`);
  const child = spawn(process.execPath, [CHILD_WORKER_JS], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  while (!out.includes('CHILD-READY')) {
    if (child.exitCode !== null) throw new Error(`child worker exited (${child.exitCode}):\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`child worker not ready within 20 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    child,
    exited,
    output: () => out,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    terminate: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
