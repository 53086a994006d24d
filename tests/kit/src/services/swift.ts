/**
 * A single-node OpenStack Swift (Debian packages) with the s3api middleware: a real S3-compatible
 * object store on 127.0.0.1, in a temp dir. Four child processes (proxy, account, container, object),
 * all `workers = 0`, so each is one PID we own.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { freePort } from '../server-process.js';
import {
  START_TIMEOUT_MS,
  launchAll,
  makeTempDir,
  removeTempDir,
  resolveCommand,
  retryOnPortClash,
  tcpOpen,
  waitFor,
  type ManagedProcess,
  type ProcessSpec,
  type ServiceOptions,
} from './process.js';
import { createS3Client, type S3Handle } from './s3-client.js';

const run = promisify(execFile);
/** Debian's Python, which sees the swift modules (a `python3` earlier on PATH may not). */
const PYTHON = '/usr/bin/python3';
const STORAGE = ['account', 'container', 'object'] as const;
type Storage = (typeof STORAGE)[number];
interface Ports {
  proxy: number;
  account: number;
  container: number;
  object: number;
}

/** tempauth user `test:tester` with key `testing` is the S3 access key / secret. */
export const SWIFT_ACCESS_KEY_ID = 'test:tester';
export const SWIFT_SECRET_ACCESS_KEY = 'testing';

async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** Swift keeps object metadata in user xattrs; fail early and clearly when the filesystem has none. */
async function checkUserXattrs(dir: string, timeout: number): Promise<void> {
  const probe = path.join(dir, 'xattr-probe');
  await fsp.writeFile(probe, '');
  try {
    await run(PYTHON, ['-c', 'import os, sys; os.setxattr(sys.argv[1], "user.tus-edge.probe", b"1")', probe], { timeout });
  } catch (err) {
    const detail = (err as { stderr?: string }).stderr?.trim().split('\n').pop() ?? String(err);
    throw new Error(
      `Swift needs user extended attributes (xattrs) on the filesystem of ${dir}, and setting one failed: ${detail}. ` +
        'Point TMPDIR at a directory on ext4/xfs (or a mount with user_xattr).',
    );
  } finally {
    await fsp.rm(probe, { force: true });
  }
}

/**
 * Builds the three rings (2^8 partitions, 1 replica, min_part_hours 1, one device each) in one Python
 * process with Swift's RingBuilder, as `swift-ring-builder create/add/rebalance` would: nine CLI runs
 * each pay Python's and Swift's imports, which took over 25 s on a loaded 2-core machine.
 */
async function buildRings(confDir: string, ports: Ports, deadline: number): Promise<void> {
  // The interpreter Swift is installed for (swift-ring-builder's shebang), not whichever python3 is first on PATH.
  const cli = resolveCommand('swift-ring-builder');
  const python = /^#!\s*(\S+)/.exec((await fsp.readFile(cli, 'utf8')).split('\n', 1)[0] ?? '')?.[1] ?? '/usr/bin/python3';
  const script = [
    'import json, os, sys',
    'from swift.common.ring import RingBuilder',
    'conf, ports = sys.argv[1], json.loads(sys.argv[2])',
    'for kind, port in ports.items():',
    '    b = RingBuilder(8, 1, 1)',
    "    b.add_dev({'region': 1, 'zone': 1, 'ip': '127.0.0.1', 'port': port, 'replication_ip': '127.0.0.1', 'replication_port': port, 'device': 'd1', 'weight': 100, 'meta': ''})",
    '    b.rebalance()',
    "    b.save(os.path.join(conf, kind + '.builder'))",
    "    b.get_ring().save(os.path.join(conf, kind + '.ring.gz'))",
  ].join('\n');
  const timeout = Math.max(1, deadline - Date.now());
  const rings = Object.fromEntries(STORAGE.map((kind) => [kind, ports[kind]]));
  await run(python, ['-c', script, confDir, JSON.stringify(rings)], { timeout }).catch((err: { stderr?: string; message: string; killed?: boolean }) => {
    throw new Error(`building the Swift rings ${err.killed ? 'timed out' : 'failed'}: ${err.stderr ?? ''}${err.message}`);
  });
}

function writeConfigs(dir: string, ports: Ports): Promise<void[]> {
  const confDir = path.join(dir, 'conf');
  const common = (port: number): string =>
    [
      '[DEFAULT]',
      'bind_ip = 127.0.0.1',
      `bind_port = ${port}`,
      'bind_timeout = 5',
      'workers = 0',
      `user = ${os.userInfo().username}`,
      `swift_dir = ${confDir}`,
      `devices = ${path.join(dir, 'devs')}`,
      'mount_check = false',
      'disable_fallocate = true',
      // No such socket: Swift falls back to UDP syslog on localhost (dropped). `-v` copies every log
      // line to stderr, which goes to logs/<name>.log.
      `log_address = ${path.join(dir, 'no-syslog')}`,
      `recon_cache_path = ${path.join(dir, 'recon')}`,
      '',
    ].join('\n');
  const files: Record<string, string> = {
    'swift.conf': ['[swift-hash]', `swift_hash_path_suffix = ${randomBytes(8).toString('hex')}`, 'swift_hash_path_prefix = tus-edge', '', '[storage-policy:0]', 'name = Policy-0', 'default = yes', ''].join('\n'),
    'proxy-server.conf': [
      common(ports.proxy),
      '[pipeline:main]',
      'pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server',
      '',
      '[app:proxy-server]',
      'use = egg:swift#proxy',
      'account_autocreate = true',
      // One process per backend on a loaded 2-core box: the default 0.5 s to connect to a backend
      // turned into 503s under the soak test (the server now retries them, but the store should not
      // be the flakiest part of a test).
      'conn_timeout = 3',
      '',
      '[filter:tempauth]',
      'use = egg:swift#tempauth',
      'user_test_tester = testing .admin',
      '',
      '[filter:s3api]',
      'use = egg:swift#s3api',
      'location = us-east-1',
      // S3 allows 10 000 parts; Swift's default is 1000 (a multi-GB upload in 8 MiB parts needs more).
      'max_upload_part_num = 10000',
      '',
      '[filter:slo]',
      'use = egg:swift#slo',
      'max_manifest_segments = 10000',
      '',
      ...['catch_errors', 'gatekeeper', 'healthcheck', 'proxy-logging:proxy_logging', 'cache:memcache', 'listing_formats', 'copy', 'dlo'].flatMap((f) => {
        const [name, egg] = f.split(':');
        return [`[filter:${name}]`, `use = egg:swift#${egg ?? name}`, ''];
      }),
    ].join('\n'),
  };
  for (const kind of STORAGE) {
    files[`${kind}-server.conf`] = [common(ports[kind]), '[pipeline:main]', `pipeline = ${kind}-server`, '', `[app:${kind}-server]`, `use = egg:swift#${kind}`, ''].join('\n');
  }
  return Promise.all(Object.entries(files).map(([name, text]) => fsp.writeFile(path.join(confDir, name), text)));
}

/**
 * Four Python servers importing eventlet and Swift: 2–5 s on an idle 2-core machine, over 30 s at a load
 * of 15, so Swift's default bound is longer than the other services'.
 */
const SWIFT_START_TIMEOUT_MS = 3 * START_TIMEOUT_MS;

/** Starts Swift with s3api in a temp dir and creates a fresh bucket (see {@link SWIFT_START_TIMEOUT_MS}). */
export async function startSwift(options: ServiceOptions = {}): Promise<S3Handle> {
  const timeoutMs = options.timeoutMs ?? SWIFT_START_TIMEOUT_MS;
  const dir = await makeTempDir('tus-edge-swift-');
  const confDir = path.join(dir, 'conf');
  const bucket = `tus-edge-test-${randomBytes(6).toString('hex')}`;
  let ports: Ports | undefined;
  let procs: ManagedProcess[] = [];

  const specs = (): ProcessSpec[] =>
    (['proxy', ...STORAGE] as const).map((kind) => ({
      name: `swift-${kind}-server`,
      command: `swift-${kind}-server`,
      args: [path.join(confDir, `${kind}-server.conf`), '-v'],
      logFile: path.join(dir, 'logs', `${kind}.log`),
      cwd: dir,
    }));
  const conn = { region: 'us-east-1', accessKeyId: SWIFT_ACCESS_KEY_ID, secretAccessKey: SWIFT_SECRET_ACCESS_KEY, bucket, forcePathStyle: true as const };
  const ready = async (p: Ports, running: ManagedProcess[], first: boolean, deadline: number): Promise<void> => {
    const endpoint = `http://127.0.0.1:${p.proxy}`;
    const client = createS3Client({ ...conn, endpoint });
    try {
      await waitFor('swift', Math.max(0, deadline - Date.now()), running, async () => {
        const res = await fetch(`${endpoint}/healthcheck`, { signal: AbortSignal.timeout(2_000) });
        await res.body?.cancel();
        if (res.status !== 200) throw new Error(`/healthcheck answered ${res.status}`);
        await Promise.all(STORAGE.map((kind) => tcpOpen(p[kind])));
        if (first) {
          await client.send(new CreateBucketCommand({ Bucket: bucket }), { abortSignal: AbortSignal.timeout(5_000) }).catch((err: Error) => {
            if (err.name !== 'BucketAlreadyOwnedByYou') throw err;
          });
        } else {
          await client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: AbortSignal.timeout(5_000) });
        }
        return true;
      });
    } finally {
      client.destroy();
    }
  };

  // One deadline for the whole start: xattr probe, rings, processes, readiness.
  const deadline = Date.now() + timeoutMs;
  try {
    await Promise.all(['conf', 'devs/d1', 'logs', 'recon'].map((d) => fsp.mkdir(path.join(dir, d), { recursive: true })));
    await checkUserXattrs(path.join(dir, 'devs', 'd1'), timeoutMs);
    ports = await retryOnPortClash(async () => {
      const [proxy, account, container, object] = await distinctFreePorts(4);
      const p: Ports = { proxy: proxy!, account: account!, container: container!, object: object! };
      await fsp.rm(confDir, { recursive: true, force: true });
      await fsp.mkdir(confDir);
      // allSettled: when one build fails, wait for the others (each bounded by the deadline) so that
      // no swift-ring-builder outlives a failed start.
      const built = await Promise.allSettled([writeConfigs(dir, p), buildRings(confDir, p, deadline)]);
      const failed = built.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      procs = await launchAll('swift', specs(), (running) => ready(p, running, true, deadline));
      return p;
    });
  } catch (err) {
    await removeTempDir(dir);
    throw err;
  }

  let stopped = false;
  const stopAll = (): Promise<void[]> => Promise.all(procs.map((p) => p.stop()));
  const fixedPorts = ports;
  return {
    kind: 'swift',
    endpoint: `http://127.0.0.1:${fixedPorts.proxy}`,
    ...conn,
    get pids() {
      return procs.map((p) => p.pid);
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await stopAll();
      await removeTempDir(dir);
    },
    restart: async () => {
      if (stopped) throw new Error('swift: restart() after stop()');
      await stopAll();
      procs = await launchAll('swift (restart)', specs(), (running) => ready(fixedPorts, running, false, Date.now() + timeoutMs));
    },
  };
}
