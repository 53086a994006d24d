/**
 * The benchmark targets and the child processes that run them.
 *
 * A target is one entry of {@link TARGETS}: an id (what BENCH_TARGETS names), a label, a role (what the
 * goals compare it as) and a `start` that returns a running {@link Target}: an {@link Uploader} the
 * scenarios talk to, plus, when the server is a process we started, a {@link Probe} for its CPU time and
 * peak RSS. Scenarios see nothing else, so a target that runs elsewhere adds one entry here and no
 * scenario changes. The S3 targets planned next fit as:
 *
 *   - this server on the local stack: `start` reads its URL (the stack's nginx URL), returns
 *     `tusUploader(...)` and no probe (the report then shows n/a for CPU and RSS);
 *   - stock `@tus/s3-store`: one more `ServeKind` in serve.ts, started with {@link localTarget};
 *   - a direct `@aws-sdk/lib-storage` multipart upload: an {@link Uploader} whose `write` sends parts,
 *     role 's3-direct' (the limit the S3 rows are read against).
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpClient, Payload, sinkUploader, tusUploader, type Uploader } from './client.js';
import type { ServeKind } from './serve.js';
import { asker } from './ipc.js';

const SERVE_ENTRY = fileURLToPath(new URL('./serve.js', import.meta.url));

/** CPU and memory of a server process, as `process.resourceUsage()` reports them. */
export interface Usage {
  /** User and system CPU time, all threads, microseconds. */
  user: number;
  system: number;
  /** Minor page faults (first touches of fresh anonymous memory and page cache). */
  faults: number;
  /** Peak resident set size since start or the last {@link Probe.resetPeak}, KiB. */
  maxRSS: number;
}

/** Observes a server process the benchmark started. */
export interface Probe {
  usage(): Promise<Usage>;
  /** Restarts the peak-RSS counter from the current RSS; false where the OS cannot (peak is then lifetime). */
  resetPeak(): Promise<boolean>;
}

/** How the goals read a target: ours against the file sink and stock; the sinks are the limits. */
export type Role = 'ours' | 'stock' | 'file-sink' | 'durable-sink' | 'discard-sink' | 's3-direct' | 'other';

export interface StartOptions {
  /** Bodies are slices of this buffer. */
  payload: Buffer;
  fleet: Fleet;
}

export interface TargetSpec {
  id: string;
  label: string;
  role: Role;
  start(opts: StartOptions): Promise<Target>;
}

export interface Target {
  spec: TargetSpec;
  uploader: Uploader;
  /** Absent when the server is not a process of ours (a remote stack). */
  probe?: Probe;
  /** Stops the target; resolves with the bytes its runs left behind (-1 when unknown). */
  stop(): Promise<number>;
}

/** A target served by a child process running serve.ts with `kind`. */
function localTarget(id: string, kind: ServeKind, label: string, role: Role, protocol: 'tus' | 'sink'): TargetSpec {
  const spec: TargetSpec = {
    id, label, role,
    async start({ payload, fleet }) {
      const child = await fleet.fork(kind);
      const http = new HttpClient(new Payload(payload));
      const uploader = protocol === 'tus' ? tusUploader(http, child.url, id) : sinkUploader(http, child.url, id);
      return {
        spec, uploader, probe: child,
        stop: async () => {
          uploader.close();
          return child.stop();
        },
      };
    },
  };
  return spec;
}

/** Every target, in table order. */
export const TARGETS: readonly TargetSpec[] = [
  localTarget('discard', 'discard', 'raw node:http sink → /dev/null', 'discard-sink', 'sink'),
  localTarget('sink', 'sink', 'raw node:http sink → file', 'file-sink', 'sink'),
  localTarget('sink-fsync', 'sink-fsync', 'raw node:http sink → file + fdatasync', 'durable-sink', 'sink'),
  localTarget('stock', 'stock', 'stock @tus/server + file-store', 'stock', 'tus'),
  localTarget('ours-nofsync', 'ours-nofsync', 'ours FSYNC=false', 'ours', 'tus'),
  localTarget('ours-fsync', 'ours-fsync', 'ours FSYNC=true (default)', 'ours', 'tus'),
  // The default is the background flush (FSYNC_INTERVAL=1s); this is the flush before every 204
  // (FSYNC_INTERVAL=0), the default before it.
  localTarget('ours-fsync-each', 'ours-fsync-each', 'ours FSYNC_INTERVAL=0 (flush per PATCH)', 'ours', 'tus'),
];

export const TARGET_IDS: readonly string[] = TARGETS.map((t) => t.id);

export function targetSpec(id: string): TargetSpec {
  const spec = TARGETS.find((t) => t.id === id);
  if (!spec) throw new Error(`unknown target "${id}" (${TARGET_IDS.join(', ')})`);
  return spec;
}

/** Event-loop delay since start or the last reset, open file descriptors and RSS of a child server. */
export interface Health {
  loopP99Ms: number;
  loopMaxMs: number;
  fds: number;
  rssMiB: number;
}

/** A running child server, seen from the parent. */
export interface ChildServer extends Probe {
  url: string;
  health(): Promise<Health>;
  stop(): Promise<number>;
}

/**
 * The child processes of one benchmark run. Each runs serve.ts (optionally under `--cpu-prof`) with a
 * data dir under os.tmpdir() that it removes when stopped; {@link killAll} is the last resort
 * (watchdog, error, Ctrl-C) and removes the dirs of the children it kills.
 */
export class Fleet {
  private readonly children = new Set<ChildProcess>();
  private readonly dirs = new Set<string>();

  /** @param cpuProfDir run servers with `node --cpu-prof` writing there; @param nodeArgs extra node flags. */
  constructor(private readonly cpuProfDir: string | undefined, private readonly nodeArgs: string[]) {}

  async fork(kind: ServeKind): Promise<ChildServer> {
    const execArgv = this.cpuProfDir
      ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(this.cpuProfDir)}`, `--cpu-prof-name=${kind}-${Date.now()}.cpuprofile`]
      : [];
    execArgv.push(...this.nodeArgs);
    const child = fork(SERVE_ENTRY, [kind], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    const ready = await new Promise<{ url: string; dir: string }>((resolve, reject) => {
      const onMsg = (m: { type: string; url: string; dir: string }) => {
        if (m.type === 'ready') {
          child.off('message', onMsg);
          resolve(m);
        }
      };
      child.on('message', onMsg);
      child.once('exit', (code) => reject(new Error(`${kind} server exited early (${code})`)));
    });
    this.dirs.add(ready.dir);
    const ask = asker(child);
    return {
      url: ready.url,
      usage: async () => {
        const { user, system, faults, maxRSS } = await ask<Usage>('usage');
        return { user, system, faults, maxRSS };
      },
      resetPeak: async () => (await ask<{ ok: boolean }>('reset-peak')).ok,
      health: async () => {
        const { loopP99Ms, loopMaxMs, fds, rssMiB } = await ask<Health>('health');
        return { loopP99Ms, loopMaxMs, fds, rssMiB };
      },
      stop: () =>
        new Promise((resolve) => {
          let leftover = -1;
          child.on('message', (m: { type: string; leftover: number }) => {
            if (m.type === 'stopped') leftover = m.leftover;
          });
          if (child.exitCode !== null || child.signalCode !== null) {
            // Exited on its own (crashed): its data dir is still there.
            fs.rmSync(ready.dir, { recursive: true, force: true });
            this.dirs.delete(ready.dir);
            return resolve(leftover);
          }
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', () => {
            clearTimeout(timer);
            // A child that never said 'stopped' did not remove its data dir.
            if (leftover === -1) fs.rmSync(ready.dir, { recursive: true, force: true });
            this.dirs.delete(ready.dir);
            resolve(leftover);
          });
          // With a callback, a child killed meanwhile (Ctrl-C, watchdog) fails the send instead of crashing us with EPIPE.
          if (child.connected) child.send({ type: 'stop' }, (err) => err && child.kill('SIGKILL'));
          else child.kill('SIGTERM');
        }),
    };
  }

  /** Kills every child still running and removes the data dirs of those that did not clean up. */
  async killAll(): Promise<void> {
    const left = [...this.dirs];
    await Promise.all(
      [...this.children].map((c) => {
        const exited = new Promise((resolve) => c.once('exit', resolve));
        c.kill('SIGKILL');
        return Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
      }),
    );
    for (const d of left) fs.rmSync(d, { recursive: true, force: true });
  }
}
