/**
 * Webhooks on the distributed deployment: two real server nodes on S3 (Swift), Redis, NATS JetStream and
 * one PostgreSQL catalogue, with a separate processor worker (`processors/dist/main.js`) whose job
 * outcomes reach the nodes through the MEDIA stream. The receiver fails (500s), then is slow (past
 * WEBHOOK_TIMEOUT); one node is stopped meanwhile; then the receiver recovers. Every event reaches the
 * owner's endpoint and the operator's exactly once, signed; the deliveries API shows the attempts.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, startStack, tempDir, TUS, type PostgresHandle, type Stack, startProcessorWorker, type ProcessorWorker } from '@tus-edge/testkit';
import { Receiver, waitUntil, type ReceivedEvent } from './receiver.js';

const TIMEOUT_MS = 500;
const OPERATOR_SECRET = 'operator-secret-for-the-webhook-test';
let receiver: Receiver;
let postgres: PostgresHandle;
let stack: Stack;
let worker: ProcessorWorker | undefined;

beforeAll(async () => {
  receiver = await new Receiver(TIMEOUT_MS * 3).start();
  receiver.secrets.set('/operator', OPERATOR_SECRET);
  postgres = await startPostgres({ timeoutMs: 90_000 });
  const databaseUrl = await postgres.createDatabase('webhooks');
  stack = await startStack({
    nodes: 2,
    timeoutMs: 120_000,
    env: {
      DATABASE_URL: databaseUrl, S3_PART_SIZE: '5MiB', STAGING_MIN_FREE: '64MiB', LOG_LEVEL: 'error',
      WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_TIMEOUT: `${TIMEOUT_MS}ms`, WEBHOOK_BACKOFF_BASE: '100ms', WEBHOOK_BACKOFF_MAX: '500ms',
      WEBHOOK_POLL_INTERVAL: '200ms', WEBHOOK_RETRY_FOR: '10m', WEBHOOK_URLS: `${receiver.url}/operator`, WEBHOOK_SECRET: OPERATOR_SECRET,
    },
  });
  worker = await startProcessorWorker({ ...stack.env, DATA_DIR: await tempDir(), LOG_LEVEL: 'error', PROCESSOR_KINDS: 'fingerprint,documents' }, 30_000);
}, 300_000);
afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
  await postgres?.stop();
  await receiver?.close();
});

async function upload(base: string, data: Buffer, name: string, type: string): Promise<string> {
  const meta = `filename ${Buffer.from(name).toString('base64')},filetype ${Buffer.from(type).toString('base64')}`;
  const res = await fetch(`${base}/files`, {
    method: 'POST',
    headers: { ...TUS, 'Upload-Length': String(data.length), 'Upload-Metadata': meta, 'Content-Type': 'application/offset+octet-stream' },
    body: data,
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.headers.get('location')!.split('/').pop()!;
}

describe('webhooks on the distributed deployment (two nodes, JetStream, PostgreSQL)', () => {
  it('delivers every event once through failures, timeouts and a node stopped mid-way', { timeout: 180_000 }, async () => {
    const [one, two] = stack.nodes as [Stack['nodes'][0], Stack['nodes'][0]];
    const res = await fetch(`${one.url}/api/webhooks`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ url: `${receiver.url}/owner`, events: ['upload.finished', 'processing.done', 'processing.failed'] }),
    });
    expect(res.status).toBe(201);
    const endpoint = (await res.json()) as { id: string; secret: string };
    receiver.secrets.set('/owner', endpoint.secret);
    // The other node sees it (one catalogue).
    expect((await fetch(`${two.url}/api/webhooks/${endpoint.id}`)).status).toBe(200);

    const a = await upload(one.url, Buffer.from('first file of the distributed webhook test\n'), 'a.txt', 'text/plain');
    const b = await upload(two.url, Buffer.from('second file of the distributed webhook test\n'), 'b.txt', 'text/plain');
    const pdf = await upload(one.url, Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(2000, 0x41)]), 'broken.pdf', 'application/pdf');
    const expected = (events: ReceivedEvent[]) => {
      const has = (uploadId: string, type: string, kind?: string) => events.some((e) => e.data.uploadId === uploadId && e.type === type && (!kind || e.data.kind === kind));
      return [a, b, pdf].every((id) => has(id, 'upload.finished') && has(id, 'processing.done', 'fingerprint'))
        && [a, b].every((id) => has(id, 'processing.done', 'documents')) && has(pdf, 'processing.failed', 'documents');
    };

    await waitUntil('two failed attempts of each upload.finished', () =>
      [a, b, pdf].every((id) => receiver.attempts.filter((t) => t.path === '/owner' && t.eventId === `upload.finished.${id}` && t.mode === 'fail').length >= 2), 60_000);
    // The job outcomes came through the MEDIA stream: their events are being attempted too.
    await waitUntil('processing events attempted', () => receiver.attempts.some((t) => t.path === '/owner' && t.eventId.startsWith('processing.')), 60_000);
    receiver.mode = 'slow';
    const slowFrom = receiver.attempts.length;
    await waitUntil('three attempts past the timeout', () => receiver.attempts.slice(slowFrom).filter((t) => t.mode === 'slow').length >= 3);
    await one.stop();
    receiver.mode = 'ok';
    await waitUntil('every event at the owner and the operator', () => {
      const at = (p: string) => [...receiver.acceptedAt(p).keys()].map((id) => receiver.events.get(id)!);
      return expected(at('/owner')) && expected(at('/operator'));
    }, 90_000);
    await new Promise((r) => setTimeout(r, 1500));
    for (const p of ['/owner', '/operator']) {
      const accepted = receiver.acceptedAt(p);
      expect(accepted.size, `${p}: ${[...accepted.keys()].join(' ')}`).toBe(9);
      expect([...accepted.values()].every((n) => n === 1), `${p}: ${JSON.stringify([...accepted])}`).toBe(true);
    }
    expect(receiver.attempts.every((t) => t.signed)).toBe(true);

    const listed = await fetch(`${two.url}/api/webhooks/${endpoint.id}/deliveries`);
    const { deliveries } = (await listed.json()) as { deliveries: Array<{ eventId: string; state: string; attempts: number; lastStatus: number; history: Array<{ status: number | null }> }> };
    expect(deliveries).toHaveLength(9);
    expect(deliveries.every((d) => d.state === 'delivered' && d.lastStatus === 204)).toBe(true);
    // Each upload.finished failed twice at least (waited for above) before it was delivered.
    expect(deliveries.filter((d) => d.eventId.startsWith('upload.finished.')).every((d) => d.attempts >= 3)).toBe(true);
    expect(deliveries.some((d) => d.history.some((h) => h.status === 500))).toBe(true);
    const metrics = await (await fetch(`${two.url}/metrics`)).text();
    expect(metrics).toMatch(/tus_webhook_queue_depth 0/);
  });
});
