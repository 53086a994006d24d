/**
 * `npm run bench:http2`: upload throughput of one server over HTTP/1.1 and HTTP/2, side by side. Four
 * set-ups, each a real server process (`server/dist/main.js`, file storage, FSYNC off so the disk does
 * not hide the protocol): HTTP/1.1 cleartext, HTTP/1.1 over TLS and h2 over TLS (both `HTTP2=tls`, a
 * self-signed certificate made with openssl), and h2c (`HTTP2=h2c`). A plain Node client (node:http,
 * node:https, node:http2; one connection) creates a tus upload and sends `HTTP2_COST_MIB` from memory
 * (a) in one PATCH and (b) in 8 MiB PATCHes. Runs are interleaved so machine noise spreads over all
 * set-ups; medians are printed. Loopback only; bounded by HTTP2_COST_RUNS.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import path from 'node:path';
import { freePort, MAIN_JS, tempDir } from '@tus-edge/testkit';
import { median } from './stats.js';

const MiB = 1024 * 1024;
const SIZE = Number(process.env.HTTP2_COST_MIB ?? 256) * MiB;
const RUNS = Number(process.env.HTTP2_COST_RUNS ?? 3);
const CHUNK = 8 * MiB;
const WRITE = MiB;

type Kind = 'http1' | 'https1' | 'h2' | 'h2c';
interface Setup {
  name: string;
  kind: Kind;
  env: (cert: string, key: string) => Record<string, string>;
}
const SETUPS: Setup[] = [
  { name: 'HTTP/1.1 (cleartext)', kind: 'http1', env: () => ({}) },
  { name: 'HTTP/1.1 over TLS', kind: 'https1', env: (cert, key) => ({ HTTP2: 'tls', TLS_CERT_FILE: cert, TLS_KEY_FILE: key }) },
  { name: 'h2 over TLS', kind: 'h2', env: (cert, key) => ({ HTTP2: 'tls', TLS_CERT_FILE: cert, TLS_KEY_FILE: key }) },
  { name: 'h2c (cleartext)', kind: 'h2c', env: () => ({ HTTP2: 'h2c' }) },
];

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

/** One client connection of a kind; `send` makes one request with an optional body written in 1 MiB pieces. */
interface Client {
  send(method: string, pathname: string, headers: Record<string, string>, body?: Buffer): Promise<Answer>;
  close(): void;
}

function writeBody(out: NodeJS.WritableStream & { once(e: 'drain', f: () => void): unknown }, body: Buffer | undefined, done: () => void): void {
  let at = 0;
  const pump = () => {
    while (body && at < body.length) {
      const next = Math.min(body.length, at + WRITE);
      const ok = out.write(body.subarray(at, next));
      at = next;
      if (!ok) return void out.once('drain', pump);
    }
    done();
  };
  pump();
}

function client(kind: Kind, base: string, ca: Buffer): Client {
  if (kind === 'h2' || kind === 'h2c') {
    const session = http2.connect(base, kind === 'h2' ? { ca } : {});
    // A refused connection (server not up yet) fails the pending stream too; that is what callers see.
    session.on('error', () => undefined);
    return {
      send: (method, pathname, headers, body) =>
        new Promise((resolve, reject) => {
          const stream = session.request({ ':method': method, ':path': pathname, ...headers }, { endStream: !body });
          stream.on('response', (h) => {
            stream.resume();
            stream.on('end', () => resolve({ status: Number(h[':status']), headers: h }));
          });
          stream.on('error', reject);
          if (body) writeBody(stream, body, () => stream.end());
        }),
      close: () => session.close(),
    };
  }
  const agent = kind === 'https1' ? new https.Agent({ keepAlive: true, maxSockets: 1, ca }) : new http.Agent({ keepAlive: true, maxSockets: 1 });
  const lib = kind === 'https1' ? https : http;
  return {
    send: (method, pathname, headers, body) =>
      new Promise((resolve, reject) => {
        const req = lib.request(new URL(pathname, base), { method, agent, headers: body ? { ...headers, 'Content-Length': String(body.length) } : headers }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
        });
        req.on('error', reject);
        writeBody(req, body, () => req.end());
      }),
    close: () => agent.destroy(),
  };
}

interface Running {
  child: ChildProcess;
  base: string;
  dataDir: string;
}

/** Every server process started, killed if this script ends any other way than through stop(). */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

async function start(setup: Setup, cert: string, key: string, ca: Buffer): Promise<Running> {
  const port = await freePort();
  const dataDir = await tempDir('tus-edge-h2bench-');
  const child = spawn(process.execPath, [MAIN_JS], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', LOG_LEVEL: 'warn', FSYNC: 'false', PROCESSORS_IN_PROCESS: 'false', ...setup.env(cert, key), PORT: String(port), DATA_DIR: dataDir },
    stdio: 'ignore',
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const base = `${setup.kind === 'http1' || setup.kind === 'h2c' ? 'http' : 'https'}://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 30_000; ; ) {
    const c = client(setup.kind, base, ca);
    try {
      if ((await c.send('OPTIONS', '/files', {})).status === 200) return { child, base, dataDir };
    } catch {
      // not listening yet
    } finally {
      c.close();
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${setup.name}: server not ready in 30 s`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stop(running: Running): Promise<void> {
  running.child.kill('SIGTERM');
  await new Promise((r) => running.child.once('exit', r));
  await fsp.rm(running.dataDir, { recursive: true, force: true });
}

const TUS = { 'tus-resumable': '1.0.0' };
const OCTET = 'application/offset+octet-stream';

/** One upload of `data` in PATCHes of `chunk` bytes; MiB/s from the first PATCH to the last answer. */
async function upload(c: Client, data: Buffer, chunk: number): Promise<number> {
  const created = await c.send('POST', '/files', { ...TUS, 'upload-length': String(data.length) });
  if (created.status !== 201) throw new Error(`POST answered ${created.status}`);
  const pathname = new URL(String(created.headers.location)).pathname;
  const t0 = process.hrtime.bigint();
  for (let offset = 0; offset < data.length; offset += chunk) {
    const res = await c.send('PATCH', pathname, { ...TUS, 'content-type': OCTET, 'upload-offset': String(offset) }, data.subarray(offset, Math.min(data.length, offset + chunk)));
    if (res.status !== 204) throw new Error(`PATCH answered ${res.status}`);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await c.send('DELETE', pathname, TUS);
  return data.length / MiB / seconds;
}

const certDir = await tempDir('tus-edge-h2bench-cert-');
const cert = path.join(certDir, 'cert.pem');
const key = path.join(certDir, 'key.pem');
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
const ca = fs.readFileSync(cert);
const data = randomBytes(SIZE);
const results = new Map<string, { one: number[]; chunked: number[] }>(SETUPS.map((s) => [s.name, { one: [], chunked: [] }]));
try {
  for (let run = 0; run < RUNS; run++) {
    for (const setup of SETUPS) {
      const running = await start(setup, cert, key, ca);
      const c = client(setup.kind, running.base, ca);
      try {
        results.get(setup.name)!.one.push(await upload(c, data, data.length));
        results.get(setup.name)!.chunked.push(await upload(c, data, CHUNK));
      } finally {
        c.close();
        await stop(running);
      }
      console.error(`run ${run + 1}/${RUNS} ${setup.name} done`);
    }
  }
} finally {
  await fsp.rm(certDir, { recursive: true, force: true });
}
const base = median(results.get(SETUPS[0].name)!.one);
console.log(`\n${SIZE / MiB} MiB from memory, FSYNC=false, file storage, one connection, median of ${RUNS} (MiB/s):\n`);
const cell = (xs: number[]) => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
const baseChunked = median(results.get(SETUPS[0].name)!.chunked);
console.log('| protocol | one PATCH (min–max) | 8 MiB PATCHes (min–max) | vs HTTP/1.1: one PATCH, 8 MiB PATCHes |');
console.log('|---|---|---|---|');
for (const setup of SETUPS) {
  const r = results.get(setup.name)!;
  console.log(`| ${setup.name} | ${cell(r.one)} | ${cell(r.chunked)} | ${(median(r.one) / base).toFixed(2)}x, ${(median(r.chunked) / baseChunked).toFixed(2)}x |`);
}
