/** Shared by the deploy tests: paths, running a tool, reading YAML documents. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEPLOY = path.join(REPO, 'deploy');

/** Runs a tool (no shell); resolves with stdout and stderr, rejects with both when it exits non-zero. */
export function run(command: string, args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: options.cwd ?? REPO, timeout: options.timeoutMs ?? 60_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** The documents of a multi-document YAML text (empty documents dropped). */
export function yamlDocuments<T = Record<string, unknown>>(text: string): T[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw d.errors[0];
      return d.toJS() as T;
    })
    .filter((d) => d !== null && d !== undefined);
}

export const readText = (relative: string): string => fs.readFileSync(path.join(REPO, relative), 'utf8');

/** Alert and recording rules of deploy/prometheus/alerts.yml. */
export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export function rules(): Rule[] {
  const [file] = yamlDocuments<{ groups: { name: string; rules: Rule[] }[] }>(readText('deploy/prometheus/alerts.yml'));
  return file.groups.flatMap((g) => g.rules);
}

/**
 * An alert's expression is `<measure> <comparison> <threshold>`: returns the measure, which must have
 * data on a healthy live stack (the comparison is what decides whether it fires).
 */
export function alertMeasure(expr: string): string {
  const m = /^([\s\S]+?)\s*(>|<|==|!=|>=|<=)\s*(-?[0-9.]+(?:e-?\d+)?)\s*$/.exec(expr.trim());
  if (!m) throw new Error(`alert expression is not "<measure> <comparison> <number>": ${expr}`);
  return m[1];
}

/** Every PromQL expression of the Grafana dashboard, with its panel's title. */
export function dashboardExpressions(): { panel: string; expr: string }[] {
  const dashboard = JSON.parse(readText('deploy/grafana/dashboards/tus-edge.json')) as {
    panels: { title: string; type: string; targets?: { expr: string }[]; panels?: unknown[] }[];
  };
  return dashboard.panels.filter((p) => p.type !== 'row').flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
}

/** A process started by a deploy test; stopped by PID. */
export interface Started {
  readonly pid: number;
  running(): boolean;
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves once it has exited. */
  stop(timeoutMs?: number): Promise<void>;
}

const started = new Set<ChildProcess>();
let exitHook = false;

/**
 * Starts `command` with its output appended to `logFile` and waits until `ready()` resolves true
 * (polled every 200 ms, up to `timeoutMs`). Fails with the log's tail if the process exits first or
 * does not become ready; whatever was started is killed then, and at the latest when the test process exits.
 */
export async function startProcess(
  spec: { command: string; args: string[]; env: NodeJS.ProcessEnv; logFile: string; cwd: string },
  ready: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<Started> {
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => started.forEach((c) => c.kill('SIGKILL')));
  }
  const fd = fs.openSync(spec.logFile, 'a');
  const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  started.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => (started.delete(child), resolve())));
  const running = () => child.exitCode === null && child.signalCode === null;
  const handle: Started = {
    pid: child.pid ?? -1,
    running,
    stop: async (stopMs = 10_000) => {
      if (!running()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => running() && child.kill('SIGKILL'), stopMs);
      await exited;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const tail = () => fs.readFileSync(spec.logFile, 'utf8').slice(-3000);
    if (!running()) throw new Error(`${spec.command} exited before it was ready:\n${tail()}`);
    if (await ready().catch(() => false)) return handle;
    if (Date.now() > deadline) {
      await handle.stop(1000);
      throw new Error(`${spec.command} not ready within ${timeoutMs} ms:\n${tail()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
