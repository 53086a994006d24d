/**
 * Embedded mode processes uploads by itself (here with the fingerprint processor only; the media
 * processors have their own end-to-end test, media.test.ts): the server alone fingerprints a finished upload, the
 * status is in GET /api/uploads/:id and streamed as Server-Sent Events, and a job recorded while no
 * processor ran is processed after a restart.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, tempDir, type TestServer } from '../harness.js';
import { TUS } from '@tus-edge/testkit';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

async function upload(server: TestServer, body: Buffer, filetype: string): Promise<string> {
  const res = await fetch(server.tusUrl, {
    method: 'POST',
    body,
    headers: {
      ...TUS, 'Upload-Length': String(body.length), 'Content-Type': 'application/offset+octet-stream',
      'Upload-Metadata': `filename ${Buffer.from('doc.pdf').toString('base64')},filetype ${Buffer.from(filetype).toString('base64')}`,
    },
  });
  expect(res.status).toBe(201);
  return res.headers.get('location')!.split('/').pop()!;
}

interface Info {
  state: string;
  processing: { state: string; jobs: Record<string, { state: string; result?: Record<string, unknown> }> } | null;
}

async function waitForProcessing(server: TestServer, id: string, ms = 20_000): Promise<Info> {
  const deadline = Date.now() + ms;
  for (;;) {
    const info = (await (await fetch(`${server.url}/api/uploads/${id}`)).json()) as Info;
    if (info.processing && ['done', 'failed', 'skipped'].includes(info.processing.state)) return info;
    if (Date.now() > deadline) throw new Error(`processing not finished: ${JSON.stringify(info.processing)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('embedded processing (npm start alone)', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('fingerprints a finished upload: sha256 and the real type, visible in the upload API', async () => {
    server = await startTestServer({ PROCESSOR_KINDS: 'fingerprint' });
    const id = await upload(server, PDF, 'image/png');
    const info = await waitForProcessing(server, id);
    expect(info.state).toBe('finished');
    expect(info.processing!.state).toBe('done');
    expect(info.processing!.jobs.fingerprint.result).toMatchObject({
      sha256: createHash('sha256').update(PDF).digest('hex'),
      size: PDF.length,
      mime: 'application/pdf',
      declaredType: 'image/png',
      declaredTypeMatches: false,
    });
  });

  it('streams status changes as Server-Sent Events until processing is over', async () => {
    server = await startTestServer({ PROCESSOR_KINDS: 'fingerprint' });
    const res = await fetch(server.tusUrl, { method: 'POST', headers: { ...TUS, 'Upload-Length': String(PDF.length) } });
    const url = new URL(res.headers.get('location')!, server.url).href;
    const id = url.split('/').pop()!;
    const events = await fetch(`${server.url}/api/uploads/${id}/events`);
    expect(events.status).toBe(200);
    expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const patched = await fetch(url, {
      method: 'PATCH', body: PDF, headers: { ...TUS, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' },
    });
    expect(patched.status).toBe(204);
    const text = await events.text(); // the stream ends after a terminal state
    const states = [...text.matchAll(/^data: (.*)$/gm)].map((m) => (JSON.parse(m[1]) as { state: string }).state);
    expect(text).toMatch(/^event: status$/m);
    expect(states.at(-1)).toBe('done');
  });

  it('answers 404 for the events of an unknown upload', async () => {
    server = await startTestServer({ PROCESSOR_KINDS: 'fingerprint' });
    expect((await fetch(`${server.url}/api/uploads/nope/events`)).status).toBe(404);
  });

  it('processes after a restart the jobs recorded while no processor ran', async () => {
    const dataDir = await tempDir();
    server = await startTestServer({ DATA_DIR: dataDir, PROCESSORS_IN_PROCESS: 'false' });
    const id = await upload(server, PDF, 'application/pdf');
    expect(((await (await fetch(`${server.url}/api/uploads/${id}`)).json()) as Info).processing).toBeNull();
    await server.close();
    server = await startTestServer({ DATA_DIR: dataDir, PROCESSOR_KINDS: 'fingerprint' });
    const info = await waitForProcessing(server, id);
    expect(info.processing!.jobs.fingerprint.result).toMatchObject({ mime: 'application/pdf', declaredTypeMatches: true });
  });

  it('removes the processing results and status with the upload (termination)', async () => {
    server = await startTestServer({ PROCESSORS_IN_PROCESS: 'false' });
    const id = await upload(server, PDF, 'application/pdf');
    await server.deps.results.put(id, 'text.json', Buffer.from('{"pages":[]}'));
    await server.deps.status.update({ uploadId: id, eventId: `upload-${id}`, kind: 'documents', patch: { state: 'done' } });
    expect((await server.deps.results.list(id)).map((f) => f.name)).toEqual(['text.json']);
    const deleted = await fetch(`${server.tusUrl}/${id}`, { method: 'DELETE', headers: TUS });
    expect(deleted.status).toBe(204);
    expect(await server.deps.results.list(id)).toEqual([]);
    expect(await server.deps.status.get(id)).toBeNull();
  });
});
