/**
 * Power-loss simulation for the file storage's background flush (`npm run bench:power-loss`, as root;
 * needs loop devices and mount, which this machine has but a CI container may not: not part of the
 * test command).
 *
 * A 256 MiB ext4 image is mounted on a loop device with `data=writeback,nodelalloc,commit=1`: the
 * journal commits new sizes and block allocations every second while the data pages stay dirty up to
 * 30 s, so a power cut leaves files whose size runs past the bytes that reached the disk (stale blocks
 * or zeros), the hazard the watermark exists for. A child process writes uploads through `FileStorage`
 * (PATCH-sized writes spread over seconds, background rounds every 200 ms); at a random moment it is
 * frozen (SIGSTOP: no system call after it), and after 1.5 s (a journal commit, no data writeback) the
 * backing image is copied: that copy is the disk as a power cut at that moment would leave it. The copy is mounted (the journal is
 * replayed) and a storage on it recovers as after a reboot. Per round and mode it counts the uploads
 * whose offset runs past the bytes that are right ("bad"): the control mode (FSYNC=false, no
 * watermark) shows the hazard is real; background flush must show none.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { FileStorage } from '@tus-edge/server';

const ROUNDS = process.argv[2] === '--writer' ? 0 : Number(process.argv[2] ?? 6);
const UPLOADS = 12;
const SIZE = 6 * 1024 * 1024;

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' }).trim();

interface Mounted {
  dir: string;
  loop: string;
  unmount(): void;
}

function mountImage(image: string, dir: string): Mounted {
  fs.mkdirSync(dir, { recursive: true });
  const loop = sh('losetup', ['-f', '--show', image]);
  sh('mount', ['-o', 'data=writeback,nodelalloc,commit=1', loop, dir]);
  return {
    dir, loop,
    unmount: () => {
      sh('umount', [dir]);
      sh('losetup', ['-d', loop]);
    },
  };
}

/** Length of the longest prefix of `file` equal to `data`. */
function rightBytes(file: Buffer, data: Buffer): number {
  const n = Math.min(file.length, data.length);
  for (let i = 0; i < n; i += 4096) {
    const end = Math.min(n, i + 4096);
    if (!file.subarray(i, end).equals(data.subarray(i, end))) {
      for (let j = i; j < end; j++) if (file[j] !== data[j]) return j;
    }
  }
  return n;
}

/** The writer (a child process, so the cut can freeze it between any two system calls). */
async function writer(dir: string, dataDir: string, mode: Mode): Promise<void> {
  const storage = storageFor(dir, mode, 'boot-before');
  await storage.check();
  const data = Array.from({ length: UPLOADS }, (_, i) => fs.readFileSync(path.join(dataDir, `d${i}`)));
  const acked = new Array<number>(UPLOADS).fill(0);
  for (let i = 0; i < UPLOADS; i++) await storage.create(`u${i}`);
  process.stdout.write('ready\n');
  for (;;) {
    const open = acked.flatMap((a, i) => (a < SIZE ? [i] : []));
    if (open.length === 0) break;
    const i = open[randomInt(open.length)];
    const n = Math.min(SIZE - acked[i], randomInt(64 * 1024, 1024 * 1024));
    const result = await storage.write(`u${i}`, acked[i], Readable.from([data[i].subarray(acked[i], acked[i] + n)]), { limit: n, expected: n });
    acked[i] += result.bytes;
    if (acked[i] === SIZE) await storage.complete(`u${i}`, SIZE);
    process.stdout.write(`${i} ${acked[i]}\n`); // acknowledged
    await new Promise<void>((resolve) => setTimeout(() => resolve(), 15)); // PATCHes spread over seconds
  }
}

type Mode = 'control' | 'background';

function storageFor(dir: string, mode: Mode, boot: string): FileStorage {
  return new FileStorage(mode === 'background'
    // The server's layout: the watermark log in DATA_DIR/durable, beside DATA_DIR/uploads.
    ? { directory: dir, stateDirectory: path.join(path.dirname(dir), 'durable'), fsync: true, flushIntervalMs: 200, bootId: async () => boot }
    : { directory: dir, fsync: false });
}

async function round(work: string, mode: Mode): Promise<{ bad: number; acked: number; kept: number; sizePast: number }> {
  const image = path.join(work, 'disk.img');
  const copy = path.join(work, 'after-power-cut.img');
  fs.rmSync(image, { force: true });
  sh('truncate', ['-s', '256M', image]);
  sh('mkfs.ext4', ['-q', '-F', image]);
  const data = Array.from({ length: UPLOADS }, (_, i) => {
    const d = randomBytes(SIZE);
    fs.writeFileSync(path.join(work, `d${i}`), d);
    return d;
  });
  const live = mountImage(image, path.join(work, 'live'));
  const acked = new Array<number>(UPLOADS).fill(0);
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--writer', path.join(live.dir, 'uploads'), work, mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buffered = '';
  let ready: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      if (line === 'ready') {
        ready();
        continue;
      }
      const [i, a] = line.split(' ').map(Number);
      acked[i] = a;
    }
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // The power cut: the writer freezes at a random moment (no system call after it), the journal
  // commits once more, and the disk as it is then is copied.
  await isReady;
  await new Promise((resolve) => setTimeout(resolve, randomInt(800, 3000)));
  child.kill('SIGSTOP');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  fs.copyFileSync(image, copy);
  child.kill('SIGKILL');
  await exited;
  live.unmount();
  const after = mountImage(copy, path.join(work, 'after'));
  try {
    const dir = path.join(after.dir, 'uploads');
    let sizePast = 0;
    for (let i = 0; i < UPLOADS; i++) {
      const f = await fsp.readFile(path.join(dir, `u${i}`)).catch(() => Buffer.alloc(0));
      if (f.length > rightBytes(f, data[i])) sizePast++;
    }
    const recovered = storageFor(dir, mode, 'boot-after');
    await recovered.check();
    let bad = 0;
    let kept = 0;
    for (let i = 0; i < UPLOADS; i++) {
      const offset = (await recovered.offset(`u${i}`))?.bytes ?? 0;
      const f = await fsp.readFile(path.join(dir, `u${i}`)).catch(() => Buffer.alloc(0));
      if (offset > rightBytes(f, data[i])) bad++;
      else if (acked[i] === SIZE && offset !== SIZE) bad++; // a finished upload must survive whole
      kept += Math.min(offset, acked[i]);
    }
    return { bad, acked: acked.reduce((a, b) => a + b, 0), kept, sizePast };
  } finally {
    after.unmount();
    fs.rmSync(copy, { force: true });
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (losetup, mount)');
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'power-loss-'));
  let failed = false;
  try {
    for (const mode of ['control', 'background'] as const) {
      const rows: Array<Awaited<ReturnType<typeof round>>> = [];
      for (let r = 0; r < ROUNDS; r++) rows.push(await round(work, mode));
      const sum = (k: 'bad' | 'acked' | 'kept' | 'sizePast') => rows.reduce((a, x) => a + x[k], 0);
      console.log(
        `${mode === 'control' ? 'FSYNC=false (control)   ' : 'FSYNC=true, background  '}: ${ROUNDS} power cuts x ${UPLOADS} uploads; ` +
          `files whose size ran past their right bytes after the cut: ${sum('sizePast')}; ` +
          `offsets past the right bytes after recovery: ${sum('bad')}; acknowledged bytes kept: ` +
          `${(sum('kept') / 2 ** 20).toFixed(1)} of ${(sum('acked') / 2 ** 20).toFixed(1)} MiB`,
      );
      if (mode === 'background' && sum('bad') > 0) failed = true;
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  if (failed) process.exit(1);
}

const run = process.argv[2] === '--writer' ? writer(process.argv[3], process.argv[4], process.argv[5] as Mode) : main();
run.catch((err) => {
  console.error(err);
  process.exit(1);
});
