/**
 * The runtime with its default processors (fingerprint, video, documents, generate) in embedded mode,
 * on real files and a fake OpenAI server: what the status says, and that broken files end `failed`
 * once, with a reason and a dead-letter record, instead of being retried.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import type { UploadCompletedEvent } from '../pipeline/event.js';
import { FileStatusStore } from '../status/file.js';
import type { ProcessingStatus } from '../status/types.js';
import { makePdf } from '@tus-edge/testkit';
import { startFakeOpenAI, type FakeOpenAI } from '@tus-edge/testkit';
import { makeEvent, waitFor, writeOutboxEvent } from '@tus-edge/testkit';
import { tempDir } from '@tus-edge/testkit';
import { startRuntime, type Runtime } from './runtime.js';

let dataDir: string;
let fake: FakeOpenAI;
let runtime: Runtime;
let status: FileStatusStore;
beforeAll(async () => {
  dataDir = await tempDir();
  fake = await startFakeOpenAI();
  const config = parseConfig({
    DATA_DIR: dataDir, LOG_LEVEL: 'silent', PROCESSOR_ACK_WAIT: '2s', PROCESSOR_MAX_DELIVER: '3',
    PROCESSOR_BACKOFF_BASE: '100ms', PROCESSOR_BACKOFF_MAX: '1s', OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.baseURL,
  });
  runtime = await startRuntime({ config, http: false });
  status = new FileStatusStore(path.join(dataDir, 'processing'));
});
afterAll(async () => {
  await runtime?.stop();
  await fake?.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});

async function publish(data: Buffer, metadata: Record<string, string>): Promise<UploadCompletedEvent> {
  const file = path.join(dataDir, `upload-${Math.random().toString(36).slice(2)}`);
  await fs.writeFile(file, data);
  const event = makeEvent({ size: data.length, filePath: file, metadata });
  await writeOutboxEvent(path.join(dataDir, 'events'), event);
  return event;
}

const settled = (id: string): Promise<ProcessingStatus> =>
  waitFor(async () => {
    const s = await status.get(id);
    return s && ['done', 'failed', 'skipped'].includes(s.state) && Object.values(s.jobs).every((j) => ['done', 'failed', 'skipped'].includes(j.state)) && s;
  }, 30_000, `processing of ${id}`);

describe('runtime with the media processors', () => {
  it('a PDF: fingerprint, documents and generated content done, video skipped; every kind has a status from the start', async () => {
    const seen: string[] = [];
    const event = await publish(makePdf(['Mitosis is cell division.', 'Meiosis makes gametes.'], { Title: 'Cells' }), { filename: 'cells.pdf', filetype: 'application/pdf' });
    await runtime.status.subscribe(event.uploadId, (s) => seen.push(s.state));
    const s = await settled(event.uploadId);
    expect(s.state).toBe('done');
    expect(Object.keys(s.jobs).sort()).toEqual(['documents', 'fingerprint', 'generate', 'video']);
    expect(s.jobs.video).toMatchObject({ state: 'skipped', reason: 'not applicable to application/pdf' });
    expect(s.jobs.documents).toMatchObject({ state: 'done', attempts: 1, result: { format: 'pdf', units: 2, metadata: { title: 'Cells' } } });
    expect(s.jobs.documents.outputLocation).toBe(`file://${dataDir}/results/${event.uploadId}/`);
    expect(s.jobs.generate).toMatchObject({ state: 'done', result: { summary: 'A short summary.', chapters: 1, questions: 1, files: [{ name: 'generated.json' }] } });
    expect(await fs.readdir(path.join(dataDir, 'results', event.uploadId))).toEqual(['generated.json', 'text.json', 'text.txt']);
    // The aggregate never looked final before the end.
    expect(seen.slice(0, -1)).not.toContain('done');
  });

  it('a corrupt PDF fails once with a reason and a dead-letter record; generate is skipped for want of text', async () => {
    const event = await publish(Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(4000, 0x20)]), { filename: 'broken.pdf' });
    const s = await settled(event.uploadId);
    expect(s.state).toBe('failed');
    expect(s.jobs.documents).toMatchObject({ state: 'failed', attempts: 1, code: 'CORRUPT_FILE', reason: 'CORRUPT_FILE: not a readable PDF: Invalid PDF structure.' });
    expect(s.reason).toBe('documents: CORRUPT_FILE: not a readable PDF: Invalid PDF structure.');
    expect(s.jobs.generate).toMatchObject({ state: 'skipped', reason: 'no text: documents failed (CORRUPT_FILE: not a readable PDF: Invalid PDF structure.)' });
    const dead = JSON.parse(await fs.readFile(path.join(dataDir, 'events', 'dead', `${event.eventId}~documents.json`), 'utf8'));
    expect(dead).toMatchObject({ code: 'CORRUPT_FILE', attempts: 1 });
    // Nothing is queued again.
    await new Promise((r) => setTimeout(r, 500));
    expect((await status.get(event.uploadId))!.jobs.documents.attempts).toBe(1);
  });

  it('a text file declared as a video fails as MISLABELLED; an unknown binary is only fingerprinted', async () => {
    const text = await publish(Buffer.from('not a video at all\n'.repeat(50)), { filename: 'clip.mp4', filetype: 'video/mp4' });
    const s = await settled(text.uploadId);
    expect(s.jobs.video).toMatchObject({ state: 'failed', attempts: 1, reason: 'MISLABELLED: declared video/mp4, but the content is text/plain' });
    expect(s.jobs.documents.state).toBe('skipped');
    expect(s.jobs.generate).toMatchObject({ state: 'skipped', reason: expect.stringMatching(/^no text: video failed/) });

    const binary = await publish(Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 256)), {});
    const b = await settled(binary.uploadId);
    expect(b.state).toBe('done');
    expect(Object.fromEntries(Object.entries(b.jobs).map(([k, j]) => [k, j.state]))).toEqual({ fingerprint: 'done', video: 'skipped', documents: 'skipped', generate: 'skipped' });
  });
});
