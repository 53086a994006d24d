/**
 * Processing on request through the real server on the embedded default (in-process runtime, directory
 * outbox, SQLite catalogue, COLD_DIR): a video's renditions and frames run again with other options,
 * a PDF gone cold gets its text and generated content again with another prompt template (against the
 * local fake OpenAI server), idempotency keys, bad options, another owner, and the earlier results kept
 * as versions. Requests are plain `fetch` over HTTP.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_ENV, bearer, makePdf, makeVideo, OCTET, startFakeOpenAI, TUS, userToken, type FakeOpenAI } from '@tus-edge/testkit';
import { startTestServer, tempDir, type TestServer } from '../harness.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
let server: TestServer;
let fake: FakeOpenAI;
let work: string;
let alice: Record<string, string>;
let bob: Record<string, string>;

beforeAll(async () => {
  work = await tempDir('process-e2e-');
  fake = await startFakeOpenAI();
  server = await startTestServer({
    ...AUTH_ENV, FSYNC: 'false', OPENAI_API_KEY: 'sk-dummy', OPENAI_BASE_URL: fake.baseURL, OPENAI_MODEL: 'gpt-e2e',
    VIDEO_PREVIEW_FRAMES: '1', VIDEO_RENDITIONS: '120p', FFMPEG_THREADS: '1', PROCESS_PLAN_PRIORITY: 'pro:high', PROCESS_ALLOWED_MODELS: 'gpt-e2e, gpt-mini',
    MAINTENANCE_INTERVAL: '1s', FILE_POLICIES: 'archive: tag=archive cold=1s',
  });
  alice = bearer(await userToken('alice', { claims: { plan: 'pro' } }));
  bob = bearer(await userToken('bob'));
}, 60_000);
afterAll(async () => {
  await server?.close();
  await fake?.close();
  await fsp.rm(work, { recursive: true, force: true });
});

/** Creates and finishes an upload in one request; returns its id. */
async function upload(data: Buffer, metadata: Record<string, string>): Promise<string> {
  const res = await fetch(server.tusUrl, {
    method: 'POST',
    headers: { ...TUS, ...alice, 'Upload-Length': String(data.length), 'Content-Type': OCTET, 'Upload-Metadata': Object.entries(metadata).map(([k, v]) => `${k} ${b64(v)}`).join(',') },
    body: data,
  });
  expect(res.status).toBe(201);
  return res.headers.get('location')!.split('/').pop()!;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const getJson = async (url: string, auth = alice) => (await fetch(`${server.url}${url}`, { headers: auth })).json() as Promise<any>;

/** The catalogued file of an upload, once every job of its processing has ended. */
async function processedFile(uploadId: string): Promise<any> {
  await until(`processing of ${uploadId}`, async () => {
    const info = await getJson(`/api/uploads/${uploadId}`);
    const jobs = Object.values(info.processing?.jobs ?? {}) as Array<{ state: string }>;
    return jobs.length > 0 && jobs.every((j) => ['done', 'failed', 'skipped'].includes(j.state)) ? info : undefined;
  });
  return until('catalogued', async () => (await getJson('/api/files')).files.find((f: any) => f.uploadId === uploadId));
}

function requestProcessing(fileId: string, body: unknown, headers: Record<string, string> = {}, auth = alice): Promise<Response> {
  return fetch(`${server.url}/api/files/${fileId}/process`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

const finished = (fileId: string, jobId: string) =>
  until(`job ${jobId}`, async () => {
    const job = await getJson(`/api/files/${fileId}/process/${jobId}`);
    return ['done', 'failed', 'skipped'].includes(job.status) ? job : undefined;
  });

describe('processing on request (embedded default)', () => {
  it('runs video renditions and frames again with other options; the earlier ones stay as versions', async () => {
    const file = path.join(work, 'clip.mp4');
    await makeVideo(file, { seconds: 2, width: 320, height: 240 });
    const uploadId = await upload(await fsp.readFile(file), { filename: 'clip.mp4', filetype: 'video/mp4' });
    const video = await processedFile(uploadId);
    expect((await getJson(`/api/uploads/${uploadId}/results`)).files.map((f: any) => f.name)).toContain('video-120p.mp4');

    const body = { kinds: ['video'], options: { video: { renditions: [72], frames: 2 } } };
    const res = await requestProcessing(video.id, body, { 'Idempotency-Key': 'clip-72p' });
    expect(res.status).toBe(202);
    const { jobId, status } = (await res.json()) as { jobId: string; status: string };
    expect(status).toBe('queued');
    // While it is queued or running, video cannot be asked for again; the same key and body answer the same job.
    const busy = await requestProcessing(video.id, { kinds: ['video'] }, { 'Idempotency-Key': 'other-key' });
    expect(busy.status).toBe(409);
    expect(((await busy.json()) as any).error.code).toBe('PROCESS_BUSY');
    const again = await requestProcessing(video.id, { options: body.options, kinds: ['video'] }, { 'Idempotency-Key': 'clip-72p' });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as any).jobId).toBe(jobId);
    const reused = await requestProcessing(video.id, { kinds: ['video'], options: { video: { frames: 3 } } }, { 'Idempotency-Key': 'clip-72p' });
    expect(reused.status).toBe(409);
    expect(((await reused.json()) as any).error.code).toBe('IDEMPOTENCY_KEY_REUSED');

    const job = await finished(video.id, jobId);
    expect(job).toMatchObject({ status: 'done', lane: 'high', kinds: { video: { state: 'done', result: { options: { renditions: [72], frames: 2 } } } } });
    const names = (await getJson(`/api/uploads/${uploadId}/results`)).files.map((f: any) => f.name);
    expect(names).toEqual(expect.arrayContaining(['video-72p.mp4', 'frame-1.jpg', 'frame-2.jpg', 'poster.jpg', 'metadata.json']));
    expect(names).not.toContain('video-120p.mp4');
    expect(names.some((n: string) => n.startsWith('v1.') || n.startsWith('versions.'))).toBe(false);
    const versions = await getJson(`/api/uploads/${uploadId}/results/video-120p.mp4/versions`);
    expect(versions.versions).toEqual([expect.objectContaining({ version: 1, kind: 'video', supersededBy: jobId, options: { renditions: [120], frames: 1 }, contentType: 'video/mp4' })]);
    const old = await fetch(`${server.url}/api/uploads/${uploadId}/results/video-120p.mp4/versions/1`, { headers: alice });
    expect(old.status).toBe(200);
    expect((await old.arrayBuffer()).byteLength).toBe(versions.versions[0].size);
    // The upload's status shows the re-run beside its other jobs, and another owner reaches nothing.
    const info = await getJson(`/api/uploads/${uploadId}`);
    expect(info.processing.jobs.video).toMatchObject({ state: 'done', runId: jobId, previous: { state: 'done' } });
    expect(info.processing.jobs.fingerprint.state).toBe('done');
    expect((await requestProcessing(video.id, body, {}, bob)).status).toBe(404);
    expect((await fetch(`${server.url}/api/files/${video.id}/process/${jobId}`, { headers: bob })).status).toBe(404);
  }, 180_000);

  it('refuses bad options with a clear message', async () => {
    const uploadId = await upload(Buffer.from('just some text\n'), { filename: 'a.txt', filetype: 'text/plain' });
    const file = await until('catalogued', async () => (await getJson('/api/files')).files.find((f: any) => f.uploadId === uploadId));
    const cases: Array<[unknown, RegExp]> = [
      [{ options: { video: { renditions: [73] } } }, /even/],
      [{ options: { generate: { questions: 0 } } }, /questions/],
      [{ options: { generate: { template: 'nosuch' } } }, /no study template "nosuch"/],
      [{ kinds: ['transcode'] }, /kinds/],
      [{ kinds: ['generate'], options: { video: {} } }, /options.video: video is not in kinds/],
      [{ priority: 'urgent' }, /priority/],
      [{ options: { generate: { colour: 'red' } } }, /colour|unrecognized/i],
      [{ options: { generate: { model: 'gpt-costly' } } }, /"gpt-costly" is not in PROCESS_ALLOWED_MODELS/],
    ];
    for (const [body, message] of cases) {
      const res = await requestProcessing(file.id, body);
      const answer = (await res.json()) as any;
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(answer.error.code).toBe('INVALID_REQUEST_BODY');
      expect(answer.error.message).toMatch(message);
    }
    expect((await requestProcessing(file.id, {}, { 'Idempotency-Key': 'bad key with spaces' })).status).toBe(400);
  }, 120_000);

  it('a duplicate (bytes stored once for the owner) is processed from the object it shares', async () => {
    const bytes = Buffer.from(`# Shared\n\nThe same bytes twice ${Date.now()}.\n`);
    const firstId = await upload(bytes, { filename: 'one.md', filetype: 'text/markdown' });
    await processedFile(firstId);
    const secondId = await upload(bytes, { filename: 'two.md', filetype: 'text/markdown' });
    const second = await processedFile(secondId);
    await until('the duplicate\'s own bytes freed', async () => (fs.existsSync(path.join(server.dataDir, 'uploads', secondId)) ? undefined : true), 30_000);
    const res = await requestProcessing(second.id, { kinds: ['fingerprint', 'documents'] });
    expect(res.status).toBe(202);
    const job = await finished(second.id, ((await res.json()) as { jobId: string }).jobId);
    expect(job).toMatchObject({ status: 'done', kinds: { fingerprint: { state: 'done' }, documents: { state: 'done' } } });
    expect(job.kinds.fingerprint.result.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  }, 120_000);

  it('a PDF gone cold: its text and generated content again from the cold copy, with another prompt template', async () => {
    const pdf = makePdf(['Week 1: cells.\nCells are the unit of life.', 'Week 2: energy.\nMitochondria make ATP.'], { Title: 'Biology' });
    const uploadId = await upload(pdf, { filename: 'notes.pdf', filetype: 'application/pdf' });
    const doc = await processedFile(uploadId);
    // Tagged for the cold policy once processed (a move while its first jobs still run would race them).
    const tagged = await fetch(`${server.url}/api/files/${doc.id}`, { method: 'PATCH', headers: { ...alice, 'Content-Type': 'application/json' }, body: JSON.stringify({ tags: ['archive'] }) });
    expect(tagged.status).toBe(200);
    await until('moved to cold', async () => ((await getJson(`/api/files/${doc.id}`)).storageClass === 'cold' ? true : undefined), 30_000);
    // Its standard copy is gone: the jobs can only succeed by reading the cold one.
    await until('standard copy dropped', async () => (fs.existsSync(path.join(server.dataDir, 'uploads', uploadId)) ? undefined : true), 30_000);
    const chatsBefore = fake.of('chat').length;

    const res = await requestProcessing(doc.id, { kinds: ['documents', 'generate'], options: { generate: { template: 'quiz@1', questions: 2, model: 'gpt-mini' } } });
    expect(res.status).toBe(202);
    const { jobId } = (await res.json()) as { jobId: string };
    const job = await finished(doc.id, jobId);
    expect(job).toMatchObject({ status: 'done', lane: 'high', kinds: { documents: { state: 'done' }, generate: { state: 'done', result: { template: 'quiz@1' } } } });
    const user = (fake.of('chat').slice(chatsBefore)[0].json!.messages as Array<{ content: string }>)[1].content;
    expect(fake.of('chat').slice(chatsBefore)[0].json!.model).toBe('gpt-mini');
    expect(user).toMatch(/^Below is the text of a PDF document/);
    expect(user).toContain('Prepare exam practice');
    expect(user).toContain('Mitochondria make ATP');
    const generated = (await (await fetch(`${server.url}/api/uploads/${uploadId}/results/generated.json`, { headers: alice })).json()) as any;
    expect(generated).toMatchObject({ template: 'quiz@1', options: { questions: 2, template: 'quiz@1' } });
    const versions = await getJson(`/api/uploads/${uploadId}/results/generated.json/versions`);
    expect(versions.versions).toEqual([expect.objectContaining({ version: 1, kind: 'generate', template: 'study@1', supersededBy: jobId })]);
    const first = (await (await fetch(`${server.url}/api/uploads/${uploadId}/results/generated.json/versions/1`, { headers: alice })).json()) as any;
    expect(first.template).toBe('study@1');
    expect((await getJson(`/api/uploads/${uploadId}/results/text.json/versions`)).versions).toHaveLength(1);
    // The catalogue's summary follows the new run; the route is in the described API with its option schemas.
    await until('summary of the new run', async () => ((await getJson(`/api/files/${doc.id}`)).processing?.state === 'done' ? true : undefined));
    const spec = await getJson('/api/openapi.json');
    const op = spec.paths['/api/files/{id}/process'].post;
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['202', '400', '404', '409']));
    expect(JSON.stringify(spec.components.schemas.ProcessRequest)).toContain('readingLevel');
    expect(spec.paths['/api/files/{id}/process/{jobId}'].get).toBeDefined();
    expect(spec.paths['/api/uploads/{id}/results/{name}/versions'].get).toBeDefined();
  }, 180_000);
});
