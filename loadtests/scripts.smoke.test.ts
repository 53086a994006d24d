/**
 * Runs each k6 script's own code (setup, a few iterations of its default function, teardown) against
 * the real server started as a child process, through the k6 stand-in in testing/k6-shim.ts, then
 * checks that no `check()` failed and that every threshold names a metric the script emits, parses as
 * a k6 expression, and (except latency and throughput trends, meaningless through curl) holds.
 * Sizes are shrunk through the scripts' own env parameters. k6 itself cannot run on this machine.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { evaluateThreshold, isThresholdExpression, parseMetricKey, resetShim, type ShimState } from './testing/k6-shim.ts';

vi.mock('k6', async () => (await import('./testing/k6-shim.ts')).k6);
vi.mock('k6/http', async () => (await import('./testing/k6-shim.ts')).http);
vi.mock('k6/metrics', async () => (await import('./testing/k6-shim.ts')).metrics);
vi.mock('k6/execution', async () => (await import('./testing/k6-shim.ts')).execution);
vi.mock('k6/encoding', async () => (await import('./testing/k6-shim.ts')).encoding);

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MAIN_JS = path.resolve(HERE, '../server/dist/main.js');

interface Script {
  options: { scenarios?: Record<string, { executor: string }>; thresholds?: Record<string, (string | { threshold: string })[]> };
  setup?: () => unknown;
  default: (data: unknown) => void;
  teardown?: (data: unknown) => void;
}

const SCRIPTS: Record<string, () => Promise<unknown>> = {
  'small-uploads': () => import('./small-uploads.ts'),
  'large-resume': () => import('./large-resume.ts'),
  'lock-contention': () => import('./lock-contention.ts'),
  'creation-storm': () => import('./creation-storm.ts'),
};

let server: ChildProcess | undefined;
let dataDir: string;
let tusUrl: string;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'k6-smoke-'));
  const port = await freePort();
  // A minimal environment: the embedded mode, whatever the runner's environment says.
  server = spawn(process.execPath, [MAIN_JS], {
    env: {
      PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn',
      FSYNC: 'false', SHUTDOWN_TIMEOUT_MS: '1000',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const ready = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (i > 100 || server.exitCode !== null) throw new Error(`server did not become ready (exit ${server.exitCode})`);
    await new Promise((r) => setTimeout(r, 100));
  }
  tusUrl = `${base}/files/`;
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  if (dataDir) await fsp.rm(dataDir, { recursive: true, force: true });
});

/** Loads `name` fresh with `env` as __ENV and runs setup, `iterations` × default, teardown. */
async function run(name: string, env: Record<string, string>, iterations: number, before?: (i: number, data: unknown) => void) {
  const state = resetShim({ TUS_URL: tusUrl, ...env });
  vi.resetModules();
  const script = (await SCRIPTS[name]()) as Script;
  const data = script.setup?.();
  for (let i = 0; i < iterations; i++) {
    before?.(i, data);
    state.iteration = i;
    script.default(data);
  }
  script.teardown?.(data);
  return { script, state };
}

/** No failed check; every threshold well-formed, on a metric the script emits, and holding (except trends). */
function verify({ script, state }: { script: Script; state: ShimState }): void {
  expect(state.failedChecks).toEqual([]);
  expect(Object.keys(script.options.scenarios ?? {}).length).toBe(1);
  const thresholds = Object.entries(script.options.thresholds ?? {});
  expect(thresholds.length).toBeGreaterThan(0);
  for (const [key, list] of thresholds) {
    const metric = state.metrics.get(parseMetricKey(key).name);
    expect(metric, `threshold on a metric the script never creates: ${key}`).toBeDefined();
    for (const t of list) {
      const expr = typeof t === 'string' ? t : t.threshold;
      expect(isThresholdExpression(expr), `${key}: ${expr}`).toBe(true);
      if (metric!.type === 'trend') continue;
      const result = evaluateThreshold(key, expr);
      if (result) expect(result.pass, `${key} ${expr} (got ${result.value})`).toBe(true);
    }
  }
}

const count = (state: ShimState, name: string, tags: Record<string, string> = {}) =>
  (state.metrics.get(name)?.samples ?? [])
    .filter((s) => Object.entries(tags).every(([k, v]) => s.tags[k] === v))
    .reduce((a, s) => a + s.value, 0);

describe('k6 scripts against the real server (k6 stand-in)', () => {
  it('small-uploads: create, PATCH in chunks, HEAD, DELETE', async () => {
    const r = await run('small-uploads', { SMALL_SIZE: '300KiB', SMALL_CHUNK: '128KiB' }, 3);
    verify(r);
    expect(count(r.state, 'tus_uploads_completed')).toBe(3);
    expect(count(r.state, 'http_reqs', { tus: 'patch' })).toBe(9);
  });

  it('small-uploads with creation-with-upload', async () => {
    const r = await run('small-uploads', { SMALL_SIZE: '200KiB', SMALL_CHUNK: '128KiB', SMALL_CREATION_WITH_UPLOAD: 'true' }, 2);
    verify(r);
    expect(count(r.state, 'tus_uploads_completed')).toBe(2);
    expect(count(r.state, 'http_reqs', { tus: 'patch' })).toBe(2);
  });

  it('creation-storm: POST then DELETE', async () => {
    const r = await run('creation-storm', { CREATE_LENGTH: '1KiB' }, 5);
    verify(r);
    expect(count(r.state, 'http_reqs', { tus: 'create' })).toBe(5);
    expect(count(r.state, 'http_reqs', { tus: 'delete' })).toBe(5);
  });

  it('large-resume: cut requests, resume from HEAD, acknowledged bytes kept, upload completes', async () => {
    const r = await run('large-resume', {
      LARGE_SIZE: '24MiB', LARGE_CHUNK: '1MiB', LARGE_INTERRUPT_EVERY: '3', LARGE_INTERRUPT_BYTES: '16MiB',
      LARGE_INTERRUPT_AFTER: '5ms', LARGE_RESUME_DELAY_MS: '50',
    }, 1);
    verify(r);
    expect(count(r.state, 'tus_upload_completed')).toBe(1);
    expect(count(r.state, 'tus_interruptions')).toBeGreaterThan(0);
    expect(r.state.metrics.get('tus_acked_bytes_kept')!.samples.length).toBeGreaterThan(0);
  });

  it('lock-contention: a HEAD takes the lock from a stalled PATCH; offsets never go backwards', async () => {
    const body = path.join(dataDir, 'rival-body');
    fs.writeFileSync(body, Buffer.alloc(4 * 1024 * 1024, 7));
    const rivals: Promise<string>[] = [];
    const r = await run('lock-contention', { CONTENTION_SIZE: '64MiB', CONTENTION_CHUNK: '256KiB' }, 6, (i, data) => {
      if (i % 2 === 0) return;
      // A rival client's slow PATCH, holding the lock while it trickles its body in.
      const url = (data as { url: string }).url;
      const head = spawnSync('curl', ['-sS', '--head', '-H', 'Tus-Resumable: 1.0.0', url]).stdout.toString();
      const offset = /upload-offset:\s*(\d+)/i.exec(head)?.[1] ?? '0';
      const rival = spawn('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'PATCH', '--limit-rate', '256k',
        '--max-time', '20', '-H', 'Expect:', '-H', 'Tus-Resumable: 1.0.0', '-H', `Upload-Offset: ${offset}`,
        '-H', 'Content-Type: application/offset+octet-stream', '--data-binary', `@${body}`, url]);
      let out = '';
      rival.stdout.on('data', (d: Buffer) => (out += d.toString()));
      rivals.push(new Promise((resolve) => rival.once('close', () => resolve(out))));
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 400); // let it take the lock
    });
    verify(r);
    expect(count(r.state, 'tus_contention_outcomes', { outcome: 'won' })).toBeGreaterThan(0);
    // The rivals were asked to give up the lock: 400 UPLOAD_INTERRUPTED, their bytes kept.
    expect(await Promise.all(rivals)).toEqual(['400', '400', '400']);
    const heads = r.state.metrics.get('http_req_duration')!.samples.filter((s) => s.tags.tus === 'head');
    expect(Math.max(...heads.map((s) => s.value))).toBeLessThan(5000);
  });
});

describe('lib/env parameters', () => {
  it('parses sizes with units and rejects malformed values naming the variable', async () => {
    resetShim({ A: '8MiB', B: '1.5k', C: 'lots', D: '30s', E: 'soon' });
    vi.resetModules();
    const env = await import('./lib/env.ts');
    expect(env.size('A', '1')).toBe(8 * 1024 * 1024);
    expect(env.size('B', '1')).toBe(1536);
    expect(env.size('UNSET', '256KiB')).toBe(256 * 1024);
    expect(() => env.size('C', '1')).toThrow(/^C="lots"/);
    expect(env.duration('D', '1s')).toBe('30s');
    expect(() => env.duration('E', '1s')).toThrow(/^E="soon"/);
    expect(env.TUS_URL).toBe('http://127.0.0.1:1080/files/');
  });
});
