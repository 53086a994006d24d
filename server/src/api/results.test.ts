/**
 * The results API (`GET /api/uploads/:id/results[/:name]`) on the file store and on S3 (Swift's s3api,
 * started here). (The ResultStore contract itself runs in processors/src/results/results.test.ts.) Results are written with the processors' store, as the runtime writes them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  createS3Client, createUploadAccess, DocumentsProcessor, FileResultStore, parseConfig, S3ResultStore, sniff, VideoProcessor,
  type ResultStore, type UploadCompletedEvent,
} from '@tus-edge/processors';
import { makePdf, makeVideo, testContext } from '@tus-edge/testkit';
import { startTestServer, type TestServer } from '../../test/harness.js';
import { s3Env, startS3, type S3Handle } from '@tus-edge/testkit';
import { TUS } from '@tus-edge/testkit';
import { documentedApi, type DocumentedApi } from '../../test/openapi.js';

/** The document of the server under test: answers are checked against it where the tests fetch. */
let api: DocumentedApi;

// Taken before any server starts: a server on S3 points TMPDIR at its own staging folder.
const TMP = os.tmpdir();

let s3: S3Handle;
beforeAll(async () => {
  s3 = await startS3();
}, 60_000);
afterAll(async () => {
  await s3?.stop();
});

const runtimeClient = () =>
  createS3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });

async function finishedUpload(server: TestServer, body = 'hello'): Promise<string> {
  const res = await api.fetch(server.tusUrl, {
    method: 'POST',
    body,
    headers: { ...TUS, 'Upload-Length': String(body.length), 'Content-Type': 'application/offset+octet-stream' },
  });
  expect(res.status).toBe(201);
  return res.headers.get('location')!.split('/').pop()!;
}

function apiSuite(name: string, start: () => Promise<{ server: TestServer; store: ResultStore }>) {
  describe(`results API: ${name}`, () => {
    let server: TestServer;
    let store: ResultStore;
    let id: string;
    beforeAll(async () => {
      ({ server, store } = await start());
      api = await documentedApi(server.url);
      id = await finishedUpload(server);
      await store.put(id, 'generated.json', Buffer.from('{"summary":"s"}'));
      await store.put(id, 'video-720p.mp4', Buffer.from('0123456789'));
    }, 60_000);
    afterAll(() => server?.close());

    it('lists the results of an upload', async () => {
      const res = await api.fetch(`${server.url}/api/uploads/${id}/results`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        files: [
          { name: 'generated.json', contentType: 'application/json', size: 15 },
          { name: 'video-720p.mp4', contentType: 'video/mp4', size: 10 },
        ],
      });
    });

    it('streams a result with its type, a fixed Content-Disposition, and single ranges', async () => {
      const res = await api.fetch(`${server.url}/api/uploads/${id}/results/generated.json`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.headers.get('content-disposition')).toBe('inline; filename="generated.json"');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-length')).toBe('15');
      expect(await res.text()).toBe('{"summary":"s"}');
      const part = await api.fetch(`${server.url}/api/uploads/${id}/results/video-720p.mp4`, { headers: { Range: 'bytes=2-5' } });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe('bytes 2-5/10');
      expect(await part.text()).toBe('2345');
      const beyond = await api.fetch(`${server.url}/api/uploads/${id}/results/video-720p.mp4`, { headers: { Range: 'bytes=20-' } });
      expect(beyond.status).toBe(416);
      expect(beyond.headers.get('content-range')).toBe('bytes */10');
    });

    it('refuses unsafe names (400) and answers 404 for unknown uploads and missing results', async () => {
      for (const bad of ['..', '.hidden', 'UPPER.json', 'a%2Fb.json', '..%2F..%2Fetc%2Fpasswd', 'a..b']) {
        const res = await api.fetch(`${server.url}/api/uploads/${id}/results/${bad}`);
        expect([400, 404], bad).toContain(res.status);
        if (res.status === 400) expect(((await res.json()) as any).error.code).toBe('INVALID_RESULT_NAME');
      }
      expect((await api.fetch(`${server.url}/api/uploads/${id}/results/a%2Fb.json`)).status).toBe(400);
      const missing = await api.fetch(`${server.url}/api/uploads/${id}/results/poster.jpg`);
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as any).error.code).toBe('RESULT_NOT_FOUND');
      for (const url of [`/api/uploads/nope/results/poster.jpg`, `/api/uploads/nope/results`, `/api/uploads/..%2F..%2Fetc/results`]) {
        const res = await api.fetch(`${server.url}${url}`);
        expect(res.status, url).toBe(404);
      }
    });
  });
}

apiSuite('files under DATA_DIR/results', async () => {
  const server = await startTestServer();
  return { server, store: new FileResultStore(path.join(server.dataDir, 'results')) };
});

apiSuite('the upload bucket in S3', async () => {
  const server = await startTestServer({
    ...s3Env(s3),
    SINGLE_NODE: 'true', PROCESSORS_IN_PROCESS: 'false',
  });
  return { server, store: new S3ResultStore(runtimeClient(), s3.bucket) };
});

describe('media processors on uploads stored in S3', () => {
  /** Puts `data` at `key` and returns the event the server would publish for it. */
  async function s3Upload(key: string, data: Buffer, metadata: Record<string, string>): Promise<UploadCompletedEvent> {
    await runtimeClient().putObject({ Bucket: s3.bucket, Key: key, Body: data, ContentLength: data.length });
    return {
      version: 1, type: 'uploads.completed', eventId: `upload-${key}`, uploadId: key, size: data.length, metadata,
      location: { kind: 's3', bucket: s3.bucket, key }, completedAt: new Date().toISOString(), node: 'test',
    };
  }

  it('ffmpeg reads the video through a presigned URL; results go to results/<id>/ in the bucket', async () => {
    const dir = await fsp.mkdtemp(path.join(TMP, 'media-s3-'));
    try {
      const file = path.join(dir, 'clip.mp4');
      await makeVideo(file, { seconds: 2, width: 320, height: 180 });
      const data = await fsp.readFile(file);
      const event = await s3Upload(`vid${Date.now().toString(36)}`, data, { filetype: 'video/mp4' });
      const config = parseConfig({ VIDEO_PREVIEW_FRAMES: '1', FFMPEG_THREADS: '1' });
      const access = createUploadAccess(runtimeClient());
      expect(await access.mediaUrl(event.location)).toMatch(new RegExp(`^${s3.endpoint}/${s3.bucket}/${event.uploadId}\\?X-Amz-`));
      const store = new S3ResultStore(runtimeClient(), s3.bucket);
      const processor = new VideoProcessor({ video: config.video, openai: config.openai, client: null, access, tmpDir: dir });
      const ctx = testContext(event, store, { sniffed: sniff(data.subarray(0, 65536)) });
      const out = await processor.run(event, ctx);
      expect(out.outputLocation).toBe(`s3://${s3.bucket}/results/${event.uploadId}/`);
      expect(out.result).toMatchObject({ metadata: { video: { width: 320, height: 180 } }, poster: 'poster.jpg', renditions: [{ name: 'video-180p.mp4' }] });
      expect((await store.list(event.uploadId)).map((f) => f.name)).toEqual(['frame-1.jpg', 'metadata.json', 'poster.jpg', 'video-180p.mp4']);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a PDF is parsed from ranged GETs', async () => {
    const event = await s3Upload(`pdf${Date.now().toString(36)}`, makePdf(['First page.', 'Second page.']), {});
    const store = new S3ResultStore(runtimeClient(), s3.bucket);
    const processor = new DocumentsProcessor(parseConfig({}).documents, createUploadAccess(runtimeClient()));
    const out = await processor.run(event, testContext(event, store, { sniffed: { mime: 'application/pdf', ext: 'pdf' } }));
    expect(out.result).toMatchObject({ format: 'pdf', units: 2 });
    const text = JSON.parse((await (await store.get(event.uploadId, 'text.json'))!.stream.toArray()).map((c) => Buffer.from(c)).join(''));
    expect(text.segments).toEqual([{ ref: 1, text: 'First page.' }, { ref: 2, text: 'Second page.' }]);
  });
});
