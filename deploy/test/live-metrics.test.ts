/**
 * Every PromQL expression of the Grafana dashboard, every recording rule and the measure of every
 * alert, evaluated by a real Prometheus (Debian's) scraping a live local stack — Redis, NATS, S3
 * (Swift), 3 server nodes behind nginx, and a processors worker (generation against the fake OpenAI,
 * the only fake) — after a short bounded upload load through nginx. An expression without data fails.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { freePort, startFakeOpenAI, startStack, tempDir, type FakeOpenAI, type Stack } from '@tus-edge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertMeasure, dashboardExpressions, DEPLOY, REPO, rules, startProcess, type Started } from './helpers.js';

const PROCESSORS_JS = path.join(REPO, 'processors/dist/main.js');
/** Bounds of the load: uploads, parallel clients, largest upload, chunk size. */
const LOAD = { uploads: 12, concurrency: 4, maxBytes: 1024 * 1024, chunk: 256 * 1024 };

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

let stack: Stack | undefined;
let openai: FakeOpenAI | undefined;
let dir = '';
const procs: Started[] = [];
let prometheus = '';
let processorsUrl = '';

async function query(expr: string): Promise<Sample[]> {
  const res = await fetch(`${prometheus}/api/v1/query?${new URLSearchParams({ query: expr })}`);
  const body = (await res.json()) as { status: string; error?: string; data: { resultType: string; result: Sample[] } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data.result;
}

const metadata = (fields: Record<string, string>) =>
  Object.entries(fields).map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`).join(',');

/** One upload through nginx: creation, then PATCHes of `LOAD.chunk`. */
async function upload(body: Buffer, meta: Record<string, string> = {}): Promise<string> {
  const tus = `${stack!.url}/files`;
  const created = await fetch(tus, {
    method: 'POST',
    headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(body.length), ...(Object.keys(meta).length ? { 'Upload-Metadata': metadata(meta) } : {}) },
  });
  if (created.status !== 201) throw new Error(`creation answered ${created.status}`);
  const location = new URL(created.headers.get('location')!, stack!.url).toString();
  for (let offset = 0; offset < body.length; offset += LOAD.chunk) {
    const chunk = body.subarray(offset, offset + LOAD.chunk);
    const res = await fetch(location, {
      method: 'PATCH',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' },
      body: chunk,
    });
    if (res.status !== 204) throw new Error(`PATCH at ${offset} answered ${res.status}`);
  }
  return location;
}

/** A PATCH held open on one node while a HEAD on another node takes the lock over (a real handover). */
async function handover(): Promise<void> {
  const created = await fetch(`${stack!.nodes[0].url}/files`, { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '10' } });
  const location = new URL(created.headers.get('location')!);
  const req = http.request(`${stack!.nodes[0].url}${location.pathname}`, {
    method: 'PATCH',
    headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream', 'Content-Length': '10' },
  });
  const ended = new Promise<void>((resolve) => {
    req.on('response', (res) => res.resume().on('end', resolve));
    req.on('error', () => resolve());
  });
  req.write('abcd');
  await new Promise((r) => setTimeout(r, 300));
  const head = await fetch(`${stack!.nodes[1].url}${location.pathname}`, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
  expect(head.status).toBe(200);
  req.destroy();
  await ended;
}

async function startPrometheus(targets: { server: string[]; processors: string[] }): Promise<string> {
  const port = await freePort();
  const config = path.join(dir, 'prometheus.yml');
  const hostPort = (url: string) => new URL(url).host;
  fs.writeFileSync(
    config,
    JSON.stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [path.join(DEPLOY, 'prometheus/alerts.yml')],
      scrape_configs: [
        { job_name: 'tus-server', static_configs: [{ targets: targets.server.map(hostPort) }] },
        { job_name: 'tus-processors', static_configs: [{ targets: targets.processors.map(hostPort) }] },
      ],
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  procs.push(
    await startProcess(
      {
        command: 'prometheus',
        args: [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
        env: { PATH: process.env.PATH },
        logFile: path.join(dir, 'prometheus.log'),
        cwd: dir,
      },
      async () => (await fetch(`${url}/-/ready`)).ok,
    ),
  );
  return url;
}

beforeAll(async () => {
  dir = await tempDir('deploy-live-');
  openai = await startFakeOpenAI();
  // Generous bounds: on a busy 2-core machine Swift alone can take half a minute to answer.
  stack = await startStack({ nodes: 3, timeoutMs: 90_000 });
  const port = await freePort();
  processorsUrl = `http://127.0.0.1:${port}`;
  procs.push(
    await startProcess(
      {
        command: process.execPath,
        args: [PROCESSORS_JS],
        env: {
          PATH: process.env.PATH, ...stack.env, HOST: '127.0.0.1', PROCESSORS_PORT: String(port), NODE_NAME: 'worker-1',
          DATA_DIR: path.join(dir, 'processors'), TMPDIR: dir, LOG_LEVEL: 'warn',
          OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: openai.baseURL, PROCESSOR_KINDS: 'fingerprint,documents,generate',
        },
        logFile: path.join(dir, 'processors.log'),
        cwd: dir,
      },
      async () => (await fetch(`${processorsUrl}/readyz`)).ok,
    ),
  );
  prometheus = await startPrometheus({ server: stack.nodes.map((n) => n.url), processors: [processorsUrl] });
}, 180_000);

afterAll(async () => {
  await Promise.allSettled(procs.map((p) => p.stop(10_000)));
  await stack?.stop();
  await openai?.close();
  if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
}, 60_000);

describe('dashboard and alert expressions on a live stack', () => {
  it('each expression returns data after a short upload load', async () => {
    const started = Date.now();
    // The load: uploads of 64 KiB .. 1 MiB in 256 KiB PATCHes, LOAD.concurrency at a time, through nginx.
    let next = 0;
    let bytes = 0;
    const client = async () => {
      for (let i = next++; i < LOAD.uploads; i = next++) {
        const size = 64 * 1024 + ((i * 7919 * 1024) % (LOAD.maxBytes - 64 * 1024));
        bytes += size;
        await upload(Buffer.alloc(size, i));
      }
    };
    await Promise.all(Array.from({ length: LOAD.concurrency }, client));
    // Something to process: a text document (documents, then generation), and a PDF that is not one (dead letter).
    await upload(Buffer.from('Resumable uploads survive broken connections. '.repeat(40)), { filetype: 'text/plain', filename: 'notes.txt' });
    await upload(Buffer.from('%PDF-1.4\nthis is not a PDF at all\n'.repeat(20)), { filetype: 'application/pdf', filename: 'broken.pdf' });
    // Client errors: an unknown upload (404) and a wrong offset (409); and a lock handover between nodes.
    expect((await fetch(`${stack!.url}/files/nope`, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } })).status).toBe(404);
    const location = await upload(Buffer.alloc(10, 1));
    const conflict = await fetch(location, {
      method: 'PATCH',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '3', 'Content-Type': 'application/offset+octet-stream' },
      body: 'x',
    });
    expect(conflict.status).toBe(409);
    await handover();
    const loadSeconds = (Date.now() - started) / 1000;

    // Wait until the jobs are settled and scraped: a dead letter, tokens used, and the lag gauge refreshed.
    const settled = async (expr: string) => (await query(expr)).some((s) => Number(s.value[1]) > 0);
    const deadline = Date.now() + 45_000;
    for (;;) {
      const done = (await settled('sum(processor_jobs_dead_lettered_total)')) && (await settled('sum(processor_generation_tokens_total)'))
        && (await settled('sum(tus_lock_handovers_total)'));
      if (done) break;
      if (Date.now() > deadline) throw new Error(`jobs did not settle in 45 s\n${fs.readFileSync(path.join(dir, 'processors.log'), 'utf8').slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    await new Promise((r) => setTimeout(r, 3000));

    const expressions = [
      ...dashboardExpressions().map((d) => ({ where: `panel "${d.panel}"`, expr: d.expr })),
      ...rules().filter((r) => r.record).map((r) => ({ where: `recording rule ${r.record}`, expr: r.expr })),
      ...rules().filter((r) => r.alert).map((r) => ({ where: `alert ${r.alert}`, expr: alertMeasure(r.expr) })),
    ];
    const empty: string[] = [];
    for (const { where, expr } of expressions) {
      const result = await query(expr);
      const finite = result.filter((s) => Number.isFinite(Number(s.value[1])));
      if (finite.length === 0) empty.push(`${where}: ${expr} -> ${JSON.stringify(result).slice(0, 200)}`);
    }
    expect(empty, 'expressions without data').toEqual([]);

    // The rules run for real: the dead-lettered PDF fires ProcessorDeadLetters (it has no `for`), and the
    // healthy stack fires none of the page alerts.
    const deadLetters = await query('ALERTS{alertname="ProcessorDeadLetters",alertstate="firing"}');
    expect(deadLetters.length).toBeGreaterThan(0);
    const ready = await query('tus:target_ready');
    expect(ready.map((s) => `${s.metric.job} ${s.value[1]}`).sort()).toEqual(['tus-processors 1', 'tus-server 1', 'tus-server 1', 'tus-server 1']);
    const firing = await query('ALERTS{alertstate="firing",severity="page"}');
    expect(firing.map((s) => s.metric.alertname)).toEqual([]);
    console.log(
      `live metrics: ${LOAD.uploads} uploads (${(bytes / 1024 / 1024).toFixed(1)} MiB) + 3 in ${loadSeconds.toFixed(1)} s through nginx, ` +
        `${expressions.length} expressions with data, ${((Date.now() - started) / 1000).toFixed(1)} s in all`,
    );
  }, 120_000);
});
