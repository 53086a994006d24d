/**
 * Parent side of the server children: forks this benchmark's entry (`main.js serve <kind>`) with the
 * server's environment and a temp dir of its own, waits for `ready`, and stops it (IPC 'stop', SIGKILL
 * after 10 s). {@link Fleet.killAll} is the last resort (watchdog, error, Ctrl-C).
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { S3CallStats } from './s3-trace.js';
import type { DistServeKind } from './serve.js';
import { asker } from '../ipc.js';

export interface ChildServer {
  kind: DistServeKind;
  /** The tus endpoint, e.g. http://127.0.0.1:PORT/files */
  url: string;
  pid: number;
  /** `[pid]`: what section 1 reads peak RSS from. */
  pids(): readonly number[];
  /** User+system CPU time of the server process so far, ms. */
  cpuMs(): Promise<number>;
  /** S3 calls the server made so far; undefined unless started with `trace`. */
  trace(): Promise<S3CallStats | undefined>;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;

export class Fleet {
  private readonly children = new Set<ChildProcess>();
  private n = 0;

  /**
   * @param entry the compiled main.js to fork
   * @param root temp dir under which each child gets `<kind>-<n>/` (removed by the caller)
   * @param cpuProfDir run the children under `node --cpu-prof`, writing there
   */
  constructor(private readonly entry: string, private readonly root: string, private readonly cpuProfDir: string | undefined) {}

  /**
   * Starts a `kind` server with `env` (plus DATA_DIR, S3_STAGING_DIR and TMPDIR in its own temp dir);
   * with `trace`, the server times its S3 calls (diagnostics).
   */
  async start(kind: DistServeKind, env: Record<string, string>, trace = false): Promise<ChildServer> {
    const dir = path.join(this.root, `${kind}-${++this.n}`);
    const dirs = { DATA_DIR: path.join(dir, 'data'), S3_STAGING_DIR: path.join(dir, 'staging'), TMPDIR: path.join(dir, 'tmp') };
    await Promise.all(Object.values(dirs).map((d) => fsp.mkdir(d, { recursive: true })));
    const execArgv = this.cpuProfDir
      ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(this.cpuProfDir)}`, `--cpu-prof-name=${kind}-${this.n}-${Date.now()}.cpuprofile`]
      : [];
    const child = fork(this.entry, ['serve', kind, ...(trace ? ['trace'] : [])], {
      execArgv,
      env: {
        PATH: process.env.PATH ?? '',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? '',
        ...env,
        ...dirs,
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.children.add(child);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    void exited.then(() => this.children.delete(child));

    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${kind} server not ready within ${READY_TIMEOUT_MS / 1000}s`)), READY_TIMEOUT_MS);
      child.on('message', (m: { type: string; url?: string }) => {
        if (m.type === 'ready') {
          clearTimeout(timer);
          resolve(m.url!);
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${kind} server exited before it was ready (code ${child.exitCode})`));
      });
    }).catch((err: unknown) => {
      child.kill('SIGKILL');
      throw err;
    });

    const ask = asker(child);
    return {
      kind,
      url,
      pid: child.pid!,
      pids: () => [child.pid!],
      cpuMs: async () => (await ask<{ cpuMs: number }>('usage')).cpuMs,
      trace: async () => (trace ? (await ask<{ stats: S3CallStats }>('trace')).stats : undefined),
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) {
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          // With a callback, a child killed meanwhile (Ctrl-C, watchdog) fails the send instead of crashing us with EPIPE.
          if (child.connected) child.send({ type: 'stop' }, (err) => err && child.kill('SIGKILL'));
          else child.kill('SIGTERM');
          await exited;
          clearTimeout(timer);
        }
        await fsp.rm(dir, { recursive: true, force: true });
      },
    };
  }

  /** SIGKILLs every child still running (each by its own PID) and waits up to 2 s for them. */
  async killAll(): Promise<void> {
    await Promise.all(
      [...this.children].map((c) => {
        const exited = new Promise((resolve) => c.once('exit', resolve));
        c.kill('SIGKILL');
        return Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
      }),
    );
  }

  /** Synchronous variant for an 'exit' hook. */
  killAllSync(): void {
    for (const c of this.children) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
