/**
 * `npm run bench:hash`: what following the sha256 of uploads while they arrive (`HASH_WHILE_RECEIVING`)
 * costs on the PATCH path. Two server set-ups, each a real server process (`server/dist/main.js`, file
 * storage, processors off so no fingerprint job reads the file afterwards): hashing off
 * (`HASH_WHILE_RECEIVING=false HASH_AT_FINISH_MAX=0`) and on. A plain node:http keep-alive client
 * sends one upload of `HASH_COST_SIZE_MIB` in PATCHes of `HASH_COST_CHUNK_MIB`, each from one in-memory
 * Buffer; runs are interleaved (off, on, off, …) so machine noise spreads over both. Reported: MiB/s,
 * PATCH p50, and the server's CPU seconds per GiB (from /proc). `HASH_COST_FSYNC` (default false: the
 * disk's flush would hide the CPU difference). Loopback only; bounded.
 */
import { tusRequest } from './http-client.js';
import fs from 'node:fs';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { spawnServer } from '@tus-edge/testkit';
import { median } from './stats.js';

const SIZE = Number(process.env.HASH_COST_SIZE_MIB ?? 256) * 1024 * 1024;
const CHUNK = Number(process.env.HASH_COST_CHUNK_MIB ?? 8) * 1024 * 1024;
const RUNS = Number(process.env.HASH_COST_RUNS ?? 5);
const FSYNC = process.env.HASH_COST_FSYNC ?? 'false';

const MODES: Array<{ name: string; env: Record<string, string> }> = [
  { name: 'off', env: { HASH_WHILE_RECEIVING: 'false', HASH_AT_FINISH_MAX: '0' } },
  { name: 'on (sha256 while receiving)', env: { HASH_WHILE_RECEIVING: 'true' } },
];


/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

interface RunResult {
  mibps: number;
  patchP50: number;
  cpuPerGiB: number;
}

async function run(env: Record<string, string>, chunk: Buffer): Promise<RunResult> {
  const server = await spawnServer({ ...env, FSYNC, PROCESSORS_IN_PROCESS: 'false', LOG_LEVEL: 'warn' });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const created = await tusRequest(agent, new URL(`${server.url}/files`), 'POST', { 'Upload-Length': String(SIZE) });
    if (created.status !== 201) throw new Error(`POST answered ${created.status}`);
    const url = new URL(String(created.headers.location), server.url);
    const pid = server.child.pid!;
    const cpu0 = cpuSeconds(pid);
    const started = performance.now();
    const ms: number[] = [];
    for (let offset = 0; offset < SIZE; offset += CHUNK) {
      const body = chunk.subarray(0, Math.min(CHUNK, SIZE - offset));
      const t = performance.now();
      const res = await tusRequest(agent, url, 'PATCH', { 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream', 'Content-Length': String(body.length) }, body);
      ms.push(performance.now() - t);
      if (res.status !== 204) throw new Error(`PATCH at ${offset} answered ${res.status}`);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuSeconds(pid) - cpu0;
    await tusRequest(agent, url, 'DELETE', {});
    return { mibps: SIZE / 1024 / 1024 / seconds, patchP50: median(ms), cpuPerGiB: cpu / (SIZE / 1024 ** 3) };
  } finally {
    agent.destroy();
    await server.terminate();
  }
}

async function main(): Promise<void> {
  const chunk = randomBytes(CHUNK);
  const results = new Map<string, RunResult[]>(MODES.map((m) => [m.name, []]));
  await run(MODES[0].env, chunk); // warm-up: page cache, disk
  for (let r = 0; r < RUNS; r++) {
    for (const mode of r % 2 ? [...MODES].reverse() : MODES) results.get(mode.name)!.push(await run(mode.env, chunk));
  }
  const base = results.get(MODES[0].name)!;
  console.log(`Content hash while receiving: ${RUNS} runs × 1 upload of ${SIZE / 1024 / 1024} MiB in ${CHUNK / 1024 / 1024} MiB PATCHes, plain node:http keep-alive client, file storage, FSYNC=${FSYNC}`);
  console.log('| hashing | MiB/s, median (min–max) | PATCH p50 ms | server CPU s/GiB | MiB/s vs off |');
  console.log('|---|---|---|---|---|');
  for (const [name, rs] of results) {
    const mibps = rs.map((r) => r.mibps);
    console.log(`| ${name} | ${median(mibps).toFixed(0)} (${Math.min(...mibps).toFixed(0)}–${Math.max(...mibps).toFixed(0)}) | ${median(rs.map((r) => r.patchP50)).toFixed(1)} | ${median(rs.map((r) => r.cpuPerGiB)).toFixed(2)} | ${(median(mibps) / median(base.map((r) => r.mibps))).toFixed(2)}x |`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
