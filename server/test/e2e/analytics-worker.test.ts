/**
 * The job history with the embedded directory queue and a worker in a process of its own
 * (`PROCESSORS_IN_PROCESS=false`, `npm run processors` on the same DATA_DIR, its compiled entry): the
 * worker leaves its attempts in `DATA_DIR/analytics/attempts`, the server takes them in, and the
 * analytics API reports the job.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest, OCTET, TUS, startProcessorWorker, type ProcessorWorker } from '@tus-edge/testkit';
import { startTestServer, type TestServer } from '../harness.js';

let server: TestServer;
let worker: ProcessorWorker | undefined;

beforeAll(async () => {
  server = await startTestServer({ PROCESSORS_IN_PROCESS: 'false' });
  worker = await startProcessorWorker({ DATA_DIR: server.dataDir, LOG_LEVEL: 'warn', PROCESSOR_KINDS: 'fingerprint' }, 30_000);
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await server?.close();
});

describe('job history: embedded directory queue, a separate worker', () => {
  it("the worker's fingerprint attempt reaches the history through DATA_DIR/analytics/attempts", async () => {
    const body = Buffer.from('%PDF-1.4\nhello analytics\n');
    const meta = `filename ${Buffer.from('a.pdf').toString('base64')},filetype ${Buffer.from('application/pdf').toString('base64')}`;
    const res = await httpRequest(server.tusUrl, 'POST', { ...TUS, 'Upload-Length': String(body.length), 'Upload-Metadata': meta, 'Content-Type': OCTET }, body);
    expect(res.status).toBe(201);
    const deadline = Date.now() + 30_000;
    let groups: Array<{ key: string; done: number; durationMs: { p50: number } | null }> = [];
    while (!groups.some((g) => g.key === 'application/pdf' && g.done === 1)) {
      if (Date.now() > deadline) throw new Error(`not reported: ${JSON.stringify(groups)}`);
      await new Promise((r) => setTimeout(r, 200));
      groups = ((await (await fetch(`${server.url}/api/analytics/processing?groupBy=mediaType`)).json()) as { groups: typeof groups }).groups;
    }
    const byKind = ((await (await fetch(`${server.url}/api/analytics/processing?groupBy=kind`)).json()) as { groups: typeof groups }).groups;
    expect(byKind.find((g) => g.key === 'fingerprint')).toMatchObject({ done: 1 });
    expect(await fs.readdir(path.join(server.dataDir, 'analytics', 'attempts'))).toEqual([]);
  }, 60_000);
});
