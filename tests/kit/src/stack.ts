/**
 * A local multi-node stack on loopback: Redis, NATS (JetStream), S3 (Swift with s3api, or the
 * external endpoint named by `TEST_S3_ENDPOINT`), N real server nodes (`node server/dist/main.js`)
 * sharing them, and nginx round-robin in front. Used by `npm run stack` and by multi-node tests.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { MAIN_JS, freePort } from './server-process.js';
import {
  START_TIMEOUT_MS,
  launchAll,
  makeTempDir,
  removeTempDir,
  retryOnPortClash,
  waitFor,
  type ManagedProcess,
} from './services/process.js';
import { startNats, type NatsHandle } from './services/nats.js';
import { startNginx, type NginxHandle } from './services/nginx.js';
import { startRedis, type RedisHandle } from './services/redis.js';
import { s3Env, type S3Handle } from './services/s3-client.js';
import { startS3 } from './services/s3.js';

/** How long a node gets after SIGTERM (its graceful shutdown) before SIGKILL. */
const NODE_STOP_TIMEOUT_MS = 15_000;

export interface StackOptions {
  /** Number of server nodes (default 3). */
  nodes?: number;
  /**
   * Extra variables for every node; they override the stack's (e.g. `LOG_LEVEL`). The per-node
   * variables `PORT`, `DATA_DIR`, `NODE_NAME`, `S3_STAGING_DIR` and `TMPDIR` cannot be overridden.
   */
  env?: Record<string, string>;
  /** Bound on each start (default 30 s). */
  timeoutMs?: number;
}

export interface NodeHandle {
  /** `node-<i>`, also its `NODE_NAME`. */
  name: string;
  /** `http://127.0.0.1:PORT` of this node, bypassing nginx. */
  url: string;
  port: number;
  /** PID of the current process (changes on `start()`). */
  readonly pid: number;
  /** This node's `DATA_DIR` (kept across `stop()`/`start()`). */
  dataDir: string;
  /** stdout and stderr of the node, appended across restarts. */
  logFile: string;
  running(): boolean;
  /** Sends `signal` (default SIGKILL) and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the node again on the same port and dirs; resolves when `GET /readyz` answers 200. */
  start(): Promise<void>;
  /** SIGTERM (graceful shutdown; SIGKILL after 15 s) and waits for exit. Keeps its dirs. */
  stop(): Promise<void>;
}

export interface Stack {
  /** nginx in front of every node: what clients use. */
  url: string;
  nodes: NodeHandle[];
  redis: RedisHandle;
  nats: NatsHandle;
  s3: S3Handle;
  nginx: NginxHandle;
  /** The variables given to every node (besides the per-node ones): point other processes here. */
  env: Record<string, string>;
  /** Stops nginx, the nodes, then Redis/NATS/S3, and removes every temp dir. */
  stop(): Promise<void>;
}

/** Variables a process needs to share the stack's Redis, NATS and S3. */
export function sharedEnv(redis: RedisHandle, nats: NatsHandle, s3: S3Handle): Record<string, string> {
  return {
    ...s3Env(s3),
    REDIS_URL: redis.url,
    NATS_URL: nats.url,
  };
}

async function startNode(name: string, root: string, env: Record<string, string>, timeoutMs: number): Promise<NodeHandle> {
  const dir = path.join(root, name);
  const dirs = { data: path.join(dir, 'data'), staging: path.join(dir, 'staging'), tmp: path.join(dir, 'tmp') };
  await Promise.all(Object.values(dirs).map((d) => fsp.mkdir(d, { recursive: true })));
  const logFile = path.join(dir, 'node.log');

  const launch = async (port: number): Promise<ManagedProcess> => {
    const url = `http://127.0.0.1:${port}`;
    const [proc] = await launchAll(
      `${name} on port ${port}`,
      [
        {
          name,
          command: process.execPath,
          args: [MAIN_JS],
          env: {
            PATH: process.env.PATH,
            ...env,
            PORT: String(port),
            DATA_DIR: dirs.data,
            NODE_NAME: name,
            S3_STAGING_DIR: dirs.staging,
            TMPDIR: dirs.tmp,
          },
          logFile,
          cwd: dir,
        },
      ],
      (procs) =>
        waitFor(`${name} GET /readyz`, timeoutMs, procs, async () => {
          const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
          await res.body?.cancel();
          if (res.status !== 200) throw new Error(`/readyz answered ${res.status}`);
          return true;
        }),
    );
    return proc;
  };

  let port = 0;
  let proc = await retryOnPortClash(async () => {
    port = await freePort();
    return launch(port);
  });
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    port,
    get pid() {
      return proc.pid;
    },
    dataDir: dirs.data,
    logFile,
    running: () => proc.running(),
    kill: async (signal = 'SIGKILL') => {
      if (!proc.running()) return;
      process.kill(proc.pid, signal);
      await proc.exited;
    },
    start: async () => {
      if (proc.running()) throw new Error(`${name} is already running (pid ${proc.pid})`);
      proc = await launch(port);
    },
    stop: () => proc.stop('SIGTERM', NODE_STOP_TIMEOUT_MS),
  };
}

/** Runs every cleanup even when some fail; throws the first failure afterwards. */
async function stopAll(cleanups: (() => Promise<unknown>)[]): Promise<void> {
  const results = await Promise.allSettled(cleanups.map((c) => c()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Starts every `start` in parallel; if one fails, stops the ones that started and rethrows. */
async function startAllOrNone<T extends { stop(): Promise<unknown> }>(starts: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(starts);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stopAll(results.flatMap((r) => (r.status === 'fulfilled' ? [() => r.value.stop()] : [])));
    throw failed.reason;
  }
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/**
 * Starts the whole stack; resolves once every node answers `GET /readyz` with 200. If anything fails
 * to start, everything already started is stopped and the error (with the log tail) is thrown.
 *
 * @example
 * const stack = await startStack({ nodes: 2 });
 * await fetch(`${stack.url}/files`, { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '5' } });
 * await stack.nodes[0].kill();
 * await stack.stop();
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const count = options.nodes ?? 3;
  if (!Number.isInteger(count) || count < 1) throw new Error(`startStack: nodes must be a positive integer, got ${count}`);
  if (!fs.existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run "npm run build" first`);
  const timeoutMs = options.timeoutMs ?? START_TIMEOUT_MS;

  const [redis, nats, s3] = (await startAllOrNone<RedisHandle | NatsHandle | S3Handle>([
    startRedis({ timeoutMs, persist: true }),
    startNats({ timeoutMs }),
    startS3(options.timeoutMs === undefined ? {} : { timeoutMs }),
  ])) as [RedisHandle, NatsHandle, S3Handle];
  const services = [redis, nats, s3];
  const root = await makeTempDir('tus-edge-stack-');
  // nginx 1.22 passes a 104 interim response on as the final one and hangs the exchange: behind it
  // the nodes send none (INTERIM_RESPONSES, server/src/config/protocols.ts).
  const env = { HOST: '127.0.0.1', LOG_LEVEL: 'warn', INTERIM_RESPONSES: 'false', ...sharedEnv(redis, nats, s3), ...options.env };

  let nodes: NodeHandle[] = [];
  let nginx: NginxHandle;
  try {
    nodes = await startAllOrNone(Array.from({ length: count }, (_, i) => startNode(`node-${i + 1}`, root, env, timeoutMs)));
    nginx = await startNginx(
      nodes.map((n) => n.url),
      { timeoutMs },
    );
  } catch (err) {
    await stopAll([...nodes.map((n) => () => n.stop()), ...services.map((s) => () => s.stop())]).catch(() => undefined);
    await removeTempDir(root);
    throw err;
  }

  let stopped = false;
  return {
    url: nginx.url,
    nodes,
    redis,
    nats,
    s3,
    nginx,
    env,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      // Front to back, each stage attempted even when an earlier one failed.
      const errors: unknown[] = [];
      for (const stage of [[nginx], nodes, services]) {
        await stopAll(stage.map((x) => () => x.stop())).catch((err: unknown) => errors.push(err));
      }
      await removeTempDir(root);
      if (errors.length > 0) throw errors[0];
    },
  };
}
