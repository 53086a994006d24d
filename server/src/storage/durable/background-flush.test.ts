import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/harness.js';
import { FileStorage } from '../file-storage.js';
import { storageContract } from '../storage.contract.js';
import { JOURNAL_NAME, ROUND_BYTES } from './background-flush.js';

storageContract('FileStorage, background flush', async () =>
  new FileStorage({ directory: path.join(await tempDir(), 'uploads'), fsync: true, flushIntervalMs: 20 }));

/** A storage on `dir` that believes the machine is in boot `boot`. */
const storageOn = (dir: string, boot: string, flushIntervalMs = 60_000) =>
  new FileStorage({ directory: dir, fsync: true, flushIntervalMs, bootId: async () => boot });

const write = (s: FileStorage, id: string, offset: number, data: Buffer) =>
  s.write(id, offset, Readable.from([data]), { limit: data.length, expected: data.length });

describe('FileStorage with background flush', () => {
  it('keeps every written byte after a process crash on the same boot', async () => {
    const dir = path.join(await tempDir(), 'uploads');
    const a = storageOn(dir, 'boot-1');
    const data = randomBytes(300_000);
    await a.create('u1');
    await write(a, 'u1', 0, data.subarray(0, 100_000));
    await a.flush();
    await write(a, 'u1', 100_000, data.subarray(100_000)); // acknowledged, not flushed
    // "Crash": a new storage on the same directory and the same boot.
    const b = storageOn(dir, 'boot-1');
    expect(await b.recover()).toMatchObject({ boot: 'same-boot', truncated: 0, flushed: 1 });
    expect((await b.offset('u1'))?.bytes).toBe(300_000);
    expect(await fsp.readFile(path.join(dir, 'u1'))).toEqual(data);
  });

  it('cuts an unfinished upload back to its watermark after a power loss, and never a finished one', async () => {
    const dir = path.join(await tempDir(), 'uploads');
    const a = storageOn(dir, 'boot-1');
    const data = randomBytes(200_000);
    await a.create('open');
    await a.create('done');
    await a.create('fresh');
    await write(a, 'open', 0, data.subarray(0, 64_000));
    await a.flush(); // watermark 64 000
    await write(a, 'open', 64_000, data.subarray(64_000));
    await write(a, 'done', 0, data);
    await a.complete('done', data.length);
    await write(a, 'fresh', 0, data.subarray(0, 1000)); // never flushed
    // What a power cut can leave: sizes past the flushed bytes, with zeros or stale blocks in the gap.
    await fsp.appendFile(path.join(dir, 'open'), Buffer.alloc(4096));
    await fsp.appendFile(path.join(dir, 'fresh'), Buffer.alloc(4096));
    const b = storageOn(dir, 'boot-2');
    expect(await b.recover()).toMatchObject({ boot: 'new-boot', truncated: 2 });
    expect((await b.offset('open'))?.bytes).toBe(64_000);
    expect(await fsp.readFile(path.join(dir, 'open'))).toEqual(data.subarray(0, 64_000));
    expect((await b.offset('fresh'))?.bytes).toBe(0);
    expect(await fsp.readFile(path.join(dir, 'done'))).toEqual(data);
    // The client resumes from 64 000 and finishes; another reboot changes nothing.
    await write(b, 'open', 64_000, data.subarray(64_000));
    await b.complete('open', data.length);
    const c = storageOn(dir, 'boot-3');
    await c.recover();
    expect(await fsp.readFile(path.join(dir, 'open'))).toEqual(data);
  });

  it('flushes in the background within the interval and records the watermark', async () => {
    const dir = path.join(await tempDir(), 'uploads');
    const a = storageOn(dir, 'boot-1', 20);
    await a.create('u');
    await write(a, 'u', 0, randomBytes(5000));
    const journal = path.join(dir, JOURNAL_NAME);
    for (let i = 0; i < 500 && !fs.readFileSync(journal, 'utf8').includes('u 5000'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(fs.readFileSync(journal, 'utf8')).toContain('u 5000\n');
  });

  it('lowers the watermark durably when a write is undone, so a reboot never keeps bytes past the cut', async () => {
    const dir = path.join(await tempDir(), 'uploads');
    const a = storageOn(dir, 'boot-1');
    const data = randomBytes(10_000);
    await a.create('u');
    await write(a, 'u', 0, data);
    await a.flush(); // watermark 10 000
    await a.truncate('u', 4000);
    await write(a, 'u', 4000, Buffer.alloc(6000, 7)); // not flushed; after a reboot it may be garbage
    const b = storageOn(dir, 'boot-2');
    await b.recover();
    expect(await fsp.readFile(path.join(dir, 'u'))).toEqual(data.subarray(0, 4000));
  });

  it('recreates an empty file for a tracked upload whose file did not survive, and forgets removed uploads', async () => {
    const dir = path.join(await tempDir(), 'uploads');
    const a = storageOn(dir, 'boot-1');
    await a.create('lost');
    await a.create('gone');
    await write(a, 'lost', 0, randomBytes(100));
    await a.flush();
    await a.remove('gone');
    fs.rmSync(path.join(dir, 'lost'));
    const b = storageOn(dir, 'boot-2');
    await b.recover();
    expect((await b.offset('lost'))?.bytes).toBe(0);
    expect(await b.offset('gone')).toBeUndefined();
  });

  it('a storage that flushes each write removes a stale watermark log, which would cut finished uploads', async () => {
    const dir = path.join(await tempDir(), 'uploads');
    const a = storageOn(dir, 'boot-1');
    await a.create('u');
    await write(a, 'u', 0, Buffer.from('x')); // waits until the creation entry is in the log
    await a.flush();
    expect(fs.readFileSync(path.join(dir, JOURNAL_NAME), 'utf8')).toContain('u 1\n');
    const each = new FileStorage({ directory: dir, fsync: true });
    await each.check();
    expect(fs.existsSync(path.join(dir, JOURNAL_NAME))).toBe(false);
  });

  it('leaves the log alone when a write it never recorded is undone (a refused checksum changes nothing there)', async () => {
    const dir = path.join(await tempDir(), 'uploads');
    const a = storageOn(dir, 'boot-1');
    const data = randomBytes(6000);
    await a.create('u');
    await write(a, 'u', 0, data.subarray(0, 1000));
    await a.flush(); // watermark 1000
    const journal = path.join(dir, JOURNAL_NAME);
    const before = fs.readFileSync(journal, 'utf8');
    await write(a, 'u', 1000, data.subarray(1000)); // written, not flushed
    await a.truncate('u', 1000);
    expect(fs.readFileSync(journal, 'utf8')).toBe(before);
    // After a reboot the cut holds whatever the disk kept past it.
    await fsp.appendFile(path.join(dir, 'u'), Buffer.alloc(4096, 1));
    await storageOn(dir, 'boot-2').recover();
    expect(await fsp.readFile(path.join(dir, 'u'))).toEqual(data.subarray(0, 1000));
  });

  it('records the bytes below a cut that were written but not flushed yet', async () => {
    const dir = path.join(await tempDir(), 'uploads');
    const a = storageOn(dir, 'boot-1');
    const data = randomBytes(3000);
    await a.create('u');
    await write(a, 'u', 0, data); // not flushed: the log says 0
    await a.truncate('u', 2000);
    await a.flush();
    expect(fs.readFileSync(path.join(dir, JOURNAL_NAME), 'utf8')).toContain('u 2000\n');
  });

  it(`starts a round without waiting for the timer once ${ROUND_BYTES / 2 ** 20} MiB were written`, async () => {
    const dir = path.join(await tempDir(), 'uploads');
    const a = storageOn(dir, 'boot-1', 600_000);
    await a.create('big');
    await write(a, 'big', 0, randomBytes(ROUND_BYTES + 1));
    const journal = path.join(dir, JOURNAL_NAME);
    const want = `big ${ROUND_BYTES + 1}\n`;
    for (let i = 0; i < 600 && !fs.readFileSync(journal, 'utf8').includes(want); i++) await new Promise((r) => setTimeout(r, 50));
    expect(fs.readFileSync(journal, 'utf8')).toContain(want);
  });

  it('keeps its log in the state directory, and adopts one an earlier version left among the uploads', async () => {
    const root = await tempDir();
    const dir = path.join(root, 'uploads');
    const state = path.join(root, 'durable');
    fs.mkdirSync(dir, { recursive: true });
    const data = randomBytes(5000);
    fs.writeFileSync(path.join(dir, 'old'), data);
    fs.writeFileSync(path.join(dir, '.watermarks'), 'old 0\nold 3000\n');
    fs.writeFileSync(path.join(dir, '.boot'), 'boot-1\n');
    const b = new FileStorage({ directory: dir, stateDirectory: state, fsync: true, flushIntervalMs: 60_000, bootId: async () => 'boot-2' });
    expect(await b.recover()).toMatchObject({ boot: 'new-boot', truncated: 1 });
    expect(await fsp.readFile(path.join(dir, 'old'))).toEqual(data.subarray(0, 3000));
    expect(fs.readdirSync(dir)).toEqual(['old']);
    expect(fs.readFileSync(path.join(state, JOURNAL_NAME), 'utf8')).toBe('old 3000\n');
    await b.create('new');
    await write(b, 'new', 0, Buffer.from('x'));
    expect(fs.readFileSync(path.join(state, JOURNAL_NAME), 'utf8')).toContain('new 0\n');
    expect(fs.readdirSync(dir).sort()).toEqual(['new', 'old']);
  });
});
