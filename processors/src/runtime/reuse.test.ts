/**
 * Results reuse with the real runtime (embedded mode, default processors, a real ffmpeg counted by a
 * PATH wrapper, a fake OpenAI): an upload whose event says it duplicates another upload's bytes
 * (`reuseFrom`, as the server's dedup sets it) runs no ffmpeg and no OpenAI request, and shows the
 * original's results, recorded as reused — also when it arrives while the original is still processed;
 * an original still queued is waited for only so long (the waiting job holds a worker the original may
 * need), then the duplicate's job runs itself.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import type { UploadCompletedEvent } from '../pipeline/event.js';
import { FileStatusStore } from '../status/file.js';
import type { ProcessingStatus } from '../status/types.js';
import { makeEvent, makeVideo, startFakeOpenAI, tempDir, waitFor, writeOutboxEvent, type FakeOpenAI } from '@tus-edge/testkit';
import { startRuntime, type Runtime } from './runtime.js';

let dataDir: string;
let fake: FakeOpenAI;
let runtime: Runtime;
let status: FileStatusStore;
let calls: string;

beforeAll(async () => {
  dataDir = await tempDir();
  // Every ffmpeg / ffprobe the processors start is counted (fluent-ffmpeg finds them on the PATH).
  const bin = path.join(dataDir, 'bin');
  calls = path.join(dataDir, 'calls.log');
  await fs.mkdir(bin);
  for (const tool of ['ffmpeg', 'ffprobe']) {
    await fs.writeFile(path.join(bin, tool), `#!/bin/sh\necho ${tool} >> '${calls}'\nexec /usr/bin/${tool} "$@"\n`, { mode: 0o755 });
  }
  process.env.PATH = `${bin}:${process.env.PATH}`;
  fake = await startFakeOpenAI();
  const config = parseConfig({
    DATA_DIR: dataDir, LOG_LEVEL: 'silent', PROCESSOR_ACK_WAIT: '5s', PROCESSOR_MAX_DELIVER: '3',
    PROCESSOR_BACKOFF_BASE: '100ms', PROCESSOR_BACKOFF_MAX: '1s', OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.baseURL,
  });
  runtime = await startRuntime({ config, http: false });
  status = new FileStatusStore(path.join(dataDir, 'processing'));
}, 60_000);
afterAll(async () => {
  await runtime?.stop();
  await fake?.close();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

const settled = (id: string): Promise<ProcessingStatus> =>
  waitFor(async () => {
    const s = await status.get(id);
    return s && Object.keys(s.jobs).length === 4 && Object.values(s.jobs).every((j) => ['done', 'failed', 'skipped'].includes(j.state)) && s;
  }, 120_000, `processing of ${id}`);
const toolCalls = async () => (await fs.readFile(calls, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
const results = async (id: string) => {
  const dir = path.join(dataDir, 'results', id);
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => !n.startsWith('.')).sort();
  return Promise.all(names.map(async (name) => ({ name, size: (await fs.stat(path.join(dir, name))).size })));
};

describe('results reuse for duplicate bytes', () => {
  it('the duplicate runs no ffmpeg and no OpenAI request, waits for the running original, and shows its results as reused', async () => {
    const file = path.join(dataDir, 'clip.mp4');
    await makeVideo(file, { seconds: 2 });
    const size = (await fs.stat(file)).size;
    const metadata = { filename: 'clip.mp4', filetype: 'video/mp4' };
    const original: UploadCompletedEvent = makeEvent({ size, filePath: file, metadata });
    // The duplicate's bytes were removed by dedup: its event points at the shared object, and names the original.
    const duplicate: UploadCompletedEvent = makeEvent({ size, filePath: file, metadata, reuseFrom: original.uploadId });
    await fs.writeFile(calls, '');
    await writeOutboxEvent(path.join(dataDir, 'events'), original);
    // Published once every job of the original has started: the duplicate's video and generate jobs find
    // the original's still running, and wait for them.
    await waitFor(async () => {
      const s = await status.get(original.uploadId);
      return s && Object.keys(s.jobs).length === 4 && Object.values(s.jobs).every((j) => j.state !== 'queued') && s.jobs.video.state === 'processing';
    }, 60_000, 'the original to be processing');
    await writeOutboxEvent(path.join(dataDir, 'events'), duplicate);
    const a = await settled(original.uploadId);
    const b = await settled(duplicate.uploadId);
    expect(a.state).toBe('done');
    expect(a.jobs.video.state).toBe('done');
    const ffmpegRuns = await toolCalls();
    const openaiRequests = fake.requests.length;
    expect(ffmpegRuns).toBeGreaterThan(0);
    expect(openaiRequests).toBeGreaterThan(0);

    expect(b.state).toBe('done');
    for (const kind of ['fingerprint', 'video', 'documents', 'generate']) {
      const mine = b.jobs[kind];
      const theirs = a.jobs[kind];
      expect(mine.state, kind).toBe(theirs.state);
      if (theirs.state === 'done') {
        expect(mine.reusedFrom, kind).toBe(original.uploadId);
        expect(mine.result, kind).toEqual(theirs.result);
        expect(mine.outputLocation ?? null, kind).toBe(theirs.outputLocation ? `file://${dataDir}/results/${duplicate.uploadId}/` : null);
      }
    }
    expect(await results(duplicate.uploadId)).toEqual(await results(original.uploadId));
    expect((await results(duplicate.uploadId)).length).toBeGreaterThan(0);

    // Nothing ran for the duplicate: every ffmpeg/ffprobe and OpenAI call was the original's.
    await new Promise((r) => setTimeout(r, 300));
    expect(await toolCalls()).toBe(ffmpegRuns);
    expect(fake.requests.length).toBe(openaiRequests);
  }, 180_000);

  it('runs the job itself when the original stays queued (it may be queued behind the waiting job)', async () => {
    const file = path.join(dataDir, 'poem.txt');
    await fs.writeFile(file, 'roses are red\n'.repeat(50));
    const size = (await fs.stat(file)).size;
    // The original's status says queued forever (as behind a busy worker): nothing to wait for.
    const stuck = makeEvent({ size, filePath: file });
    await status.plan(stuck.uploadId, stuck.eventId, ['fingerprint']);
    const dup = makeEvent({ size, filePath: file, reuseFrom: stuck.uploadId });
    await writeOutboxEvent(path.join(dataDir, 'events'), dup);
    const s = await settled(dup.uploadId);
    expect(s.jobs.fingerprint).toMatchObject({ state: 'done', result: { size, mime: 'text/plain' } });
    expect(s.jobs.fingerprint.reusedFrom).toBeUndefined();
  }, 60_000);

  it('runs the job itself when the original has no status (removed, or never processed)', async () => {
    const file = path.join(dataDir, 'song.txt');
    await fs.writeFile(file, 'la la la\n'.repeat(100));
    const orphan = makeEvent({ size: 900, filePath: file, metadata: { filename: 'song.txt' }, reuseFrom: 'gone-upload' });
    await writeOutboxEvent(path.join(dataDir, 'events'), orphan);
    const s = await settled(orphan.uploadId);
    expect(s.jobs.fingerprint.state).toBe('done');
    expect(s.jobs.fingerprint.reusedFrom).toBeUndefined();
    expect(s.jobs.fingerprint.result).toMatchObject({ size: 900, mime: 'text/plain' });
  }, 60_000);
});
