/**
 * A minimal stand-in for the k6 modules the load-test scripts import, so their iteration code can run
 * under vitest (k6 itself cannot be installed here). One VU, iterations run in order; requests are
 * synchronous like k6's, made with `curl` through spawnSync (so the server must be another process).
 * It records what k6 would turn into metrics, and {@link evaluateThreshold} reads a threshold the way
 * k6 does for the aggregations the scripts use. Response header names are canonicalised as k6 (Go)
 * does, e.g. `upload-offset` → `Upload-Offset`.
 *
 * Not k6: no VU concurrency, no executors, no timing model; it checks the scripts' protocol logic.
 * State lives on globalThis so it survives `vi.resetModules()` between scripts.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type MetricType = 'counter' | 'rate' | 'trend' | 'gauge';

export interface Sample {
  value: number;
  tags: Record<string, string>;
}

export interface ShimState {
  env: Record<string, string>;
  iteration: number;
  metrics: Map<string, { type: MetricType; samples: Sample[] }>;
  failedChecks: string[];
  logs: string[];
}

/** k6's built-in metrics the scripts' thresholds may name. */
export const BUILTIN_METRICS: Record<string, MetricType> = {
  http_req_duration: 'trend', http_req_failed: 'rate', http_reqs: 'counter', checks: 'rate',
  iterations: 'counter', dropped_iterations: 'counter',
};

const KEY = '__k6ShimState';
type WithState = typeof globalThis & { [KEY]?: ShimState; __ENV?: Record<string, string> };

/** Starts a fresh run with `env` as k6's `__ENV`. */
export function resetShim(env: Record<string, string>): ShimState {
  const state: ShimState = { env, iteration: 0, metrics: new Map(), failedChecks: [], logs: [] };
  for (const [name, type] of Object.entries(BUILTIN_METRICS)) state.metrics.set(name, { type, samples: [] });
  (globalThis as WithState)[KEY] = state;
  (globalThis as WithState).__ENV = env;
  return state;
}

export function shimState(): ShimState {
  const state = (globalThis as WithState)[KEY];
  if (!state) throw new Error('k6 shim used before resetShim()');
  return state;
}

function record(name: string, type: MetricType, value: number, tags: Record<string, string> = {}): void {
  const metrics = shimState().metrics;
  let m = metrics.get(name);
  if (!m) metrics.set(name, (m = { type, samples: [] }));
  m.samples.push({ value, tags });
}

// ───────────── k6 ─────────────

function check<T>(val: T, sets: Record<string, (v: T) => boolean>, tags: Record<string, string> = {}): boolean {
  let all = true;
  for (const [name, fn] of Object.entries(sets)) {
    const ok = !!fn(val);
    record('checks', 'rate', ok ? 1 : 0, { check: name, ...tags });
    if (!ok) shimState().failedChecks.push(name);
    all &&= ok;
  }
  return all;
}

function sleep(seconds: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(0, seconds * 1000));
}

export const k6 = { check, sleep, default: { check, sleep } };

// ───────────── k6/metrics ─────────────

class Metric {
  readonly name: string;
  private readonly type: MetricType;
  constructor(name: string, type: MetricType) {
    this.name = name;
    this.type = type;
    if (!shimState().metrics.has(name)) shimState().metrics.set(name, { type, samples: [] });
  }
  add(value: number | boolean, tags?: Record<string, string>): void {
    record(this.name, this.type, Number(value), tags);
  }
}

export const metrics = {
  Counter: class extends Metric { constructor(name: string) { super(name, 'counter'); } },
  Rate: class extends Metric { constructor(name: string) { super(name, 'rate'); } },
  Trend: class extends Metric { constructor(name: string) { super(name, 'trend'); } },
  Gauge: class extends Metric { constructor(name: string) { super(name, 'gauge'); } },
};

// ───────────── k6/execution, k6/encoding ─────────────

const vu = {
  idInTest: 1,
  get iterationInScenario() { return shimState().iteration; },
};
export const execution = { default: { vu, scenario: { name: 'shim' } }, vu };

const b64encode = (input: string | ArrayBuffer) =>
  (typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input)).toString('base64');
export const encoding = { b64encode, default: { b64encode } };

// ───────────── k6/http ─────────────

interface Expected { codes: number[] }
const expectedStatuses = (...codes: number[]): Expected => ({ codes });

interface Params {
  headers?: Record<string, string>;
  tags?: Record<string, string>;
  timeout?: string | number;
  responseCallback?: Expected;
}

/** k6 duration ('50ms', '1.5s', '2m') or milliseconds → seconds. */
function seconds(timeout: string | number): number {
  if (typeof timeout === 'number') return timeout / 1000;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(timeout);
  if (!m) throw new Error(`shim: unsupported timeout ${timeout}`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60 }[m[2] as 'ms' | 's' | 'm'];
}

/** Go's textproto.CanonicalMIMEHeaderKey, which k6 applies to response header names. */
const canonical = (name: string) => name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());

function request(method: string, url: string, body: ArrayBuffer | string | null, params: Params = {}) {
  const bodyFile = path.join(os.tmpdir(), `k6-shim-body-${process.pid}`);
  const args = ['-sS', '-D', '-', '-o', bodyFile, '-w', '\n%{http_code} %{time_total}', '-H', 'Expect:'];
  args.push(...(method === 'HEAD' ? ['--head'] : ['-X', method]));
  for (const [k, v] of Object.entries(params.headers ?? {})) args.push('-H', `${k}: ${v}`);
  const input = body === null ? undefined : Buffer.from(body as ArrayBuffer);
  if (input) args.push('--data-binary', '@-');
  else if (method !== 'HEAD' && method !== 'GET') args.push('-H', 'Content-Length: 0');
  if (params.timeout !== undefined) args.push('--max-time', String(seconds(params.timeout)));
  args.push(url);
  fs.rmSync(bodyFile, { force: true });
  const run = spawnSync('curl', args, { input, maxBuffer: 1024 * 1024, timeout: 120_000 });
  const stdout = run.stdout.toString('latin1');
  const tail = /\n(\d{3}) ([\d.]+)$/.exec(stdout);
  const status = run.status === 0 && tail ? Number(tail[1]) : 0;
  const headers: Record<string, string> = {};
  for (const line of stdout.slice(0, tail?.index ?? stdout.length).split(/\r?\n/)) {
    const m = /^([^:\s]+):\s*(.*)$/.exec(line);
    if (m) headers[canonical(m[1])] = m[2];
  }
  let text = '';
  if (fs.existsSync(bodyFile)) {
    text = fs.readFileSync(bodyFile, 'utf8');
    fs.rmSync(bodyFile, { force: true });
  }
  const tags = { method, ...params.tags };
  const ok = status !== 0 && (params.responseCallback ? params.responseCallback.codes.includes(status) : status < 400);
  record('http_reqs', 'counter', 1, tags);
  record('http_req_failed', 'rate', ok ? 0 : 1, tags);
  if (status !== 0) record('http_req_duration', 'trend', Number(tail![2]) * 1000, tags);
  return {
    status,
    headers,
    body: text,
    error: status === 0 ? run.stderr.toString().trim() : '',
    // k6: 1050 = request timeout; 1000 = generic network error.
    error_code: status === 0 ? (run.status === 28 ? 1050 : 1000) : status >= 400 ? 1400 : 0,
  };
}

const httpApi = { request, expectedStatuses };
export const http = { ...httpApi, default: httpApi };

// ───────────── thresholds ─────────────

const THRESHOLD = /^(avg|min|max|med|count|rate|value|p\((\d+(?:\.\d+)?)\))\s*(<=|>=|==|===|!=|<|>)\s*(-?\d+(?:\.\d+)?)$/;

/** Parses `name{tag:value,...}` into the metric name and the tag filter. */
export function parseMetricKey(key: string): { name: string; tags: Record<string, string> } {
  const m = /^([a-z_][a-z0-9_]*)(?:\{([^}]*)\})?$/i.exec(key);
  if (!m) throw new Error(`bad threshold metric key ${key}`);
  const tags: Record<string, string> = {};
  for (const pair of (m[2] ?? '').split(',').filter(Boolean)) {
    const [k, ...v] = pair.split(':');
    tags[k.trim()] = v.join(':').trim();
  }
  return { name: m[1], tags };
}

/** True when `expr` is a threshold expression k6 accepts for the aggregations used here. */
export const isThresholdExpression = (expr: string): boolean => THRESHOLD.test(expr.trim());

/**
 * Evaluates `expr` on the samples of `key` recorded so far; undefined when the metric has no samples
 * (k6 does not fail such thresholds either).
 */
export function evaluateThreshold(key: string, expr: string): { pass: boolean; value: number } | undefined {
  const { name, tags } = parseMetricKey(key);
  const m = shimState().metrics.get(name);
  const samples = (m?.samples ?? []).filter((s) => Object.entries(tags).every(([k, v]) => s.tags[k] === v)).map((s) => s.value);
  const e = THRESHOLD.exec(expr.trim());
  if (!e) throw new Error(`bad threshold expression ${expr}`);
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = samples.reduce((a, b) => a + b, 0);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  const agg = e[1];
  const value =
    agg === 'count' ? sum : agg === 'rate' || agg === 'avg' ? sum / samples.length : agg === 'min' ? sorted[0]
    : agg === 'max' ? sorted[sorted.length - 1] : agg === 'med' ? pct(50) : agg === 'value' ? samples[samples.length - 1]
    : pct(Number(e[2]));
  const target = Number(e[4]);
  const pass = { '<': value < target, '<=': value <= target, '>': value > target, '>=': value >= target,
    '==': value === target, '===': value === target, '!=': value !== target }[e[3]]!;
  return { pass, value };
}
