/**
 * Webhooks on the embedded default (one real server process, SQLite catalogue, in-process processors):
 * a receiver on 127.0.0.1 fails (500s), then is slow (past WEBHOOK_TIMEOUT), the server is restarted
 * meanwhile, then the receiver recovers. Every event (upload.finished, processing.done of fingerprint,
 * processing.failed of a corrupt PDF) reaches the owner's endpoint and the operator's (WEBHOOK_URLS)
 * exactly once, signed; the deliveries API shows the attempts; 410 disables an endpoint.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, REPO_ROOT, spawnServer, tempDir, TUS, type SpawnedServer } from '@tus-edge/testkit';
import { DeliverySchema } from '../../src/api/webhooks.js';
import { Receiver, waitUntil, type ReceivedEvent } from './receiver.js';

const TIMEOUT_MS = 400;
const OPERATOR_SECRET = 'operator-secret-for-the-webhook-test';
let receiver: Receiver;
let server: SpawnedServer;
let dataDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  receiver = await new Receiver(TIMEOUT_MS * 3).start();
  receiver.secrets.set('/operator', OPERATOR_SECRET);
  dataDir = await tempDir('webhooks-embedded-');
  env = {
    WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_TIMEOUT: `${TIMEOUT_MS}ms`, WEBHOOK_BACKOFF_BASE: '100ms', WEBHOOK_BACKOFF_MAX: '400ms',
    WEBHOOK_POLL_INTERVAL: '100ms', WEBHOOK_RETRY_FOR: '10m', WEBHOOK_URLS: `${receiver.url}/operator`, WEBHOOK_SECRET: OPERATOR_SECRET,
    PROCESSOR_KINDS: 'fingerprint,documents', LOG_LEVEL: 'error',
  };
  server = await spawnServer(env, dataDir);
}, 60_000);
afterAll(async () => {
  await server?.kill();
  await receiver?.close();
});

async function register(url: string, events: string[], base = server.url): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/api/webhooks`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ url, events, description: 'test' }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function upload(data: Buffer, name: string, type: string, tusUrl = server.tusUrl): Promise<string> {
  const meta = `filename ${Buffer.from(name).toString('base64')},filetype ${Buffer.from(type).toString('base64')}`;
  const res = await fetch(tusUrl, {
    method: 'POST',
    headers: { ...TUS, 'Upload-Length': String(data.length), 'Upload-Metadata': meta, 'Content-Type': 'application/offset+octet-stream' },
    body: data,
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.headers.get('location')!.split('/').pop()!;
}

describe('webhooks on the embedded default', () => {
  it('refuses targets that are not http(s) or do not resolve, with a catalogue error', async () => {
    for (const url of ['ftp://127.0.0.1/x', 'http://webhook-target.invalid/x']) {
      const { status, body } = await register(url, ['upload.finished']);
      expect(status, url).toBe(400);
      expect((body.error as { code: string }).code).toBe('WEBHOOK_TARGET_REFUSED');
    }
    const bad = await register(`${receiver.url}/x`, ['upload.started']);
    expect(bad.status).toBe(400);
  });

  it('delivers every event once through failures, timeouts and a restart; 410 disables', { timeout: 120_000 }, async () => {
    const owner = await register(`${receiver.url}/owner`, ['upload.finished', 'processing.done', 'processing.failed']);
    expect(owner.status).toBe(201);
    expect(owner.body.secret).toMatch(/^whsec_/);
    receiver.secrets.set('/owner', owner.body.secret as string);
    const gone = await register(`${receiver.url}/gone`, ['upload.finished']);
    receiver.secrets.set('/gone', gone.body.secret as string);
    const listed = (await (await fetch(`${server.url}/api/webhooks`)).json()) as { webhooks: Array<{ id: string; secret?: string }> };
    expect(listed.webhooks.map((w) => w.id)).toEqual([owner.body.id, gone.body.id]);
    expect(listed.webhooks.every((w) => w.secret === undefined)).toBe(true);

    const a = await upload(Buffer.from('first file of the webhook test\n'), 'a.txt', 'text/plain');
    const b = await upload(Buffer.from('second file of the webhook test\n'), 'b.txt', 'text/plain');
    const pdf = await upload(Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(2000, 0x41)]), 'broken.pdf', 'application/pdf');
    // Per upload: upload.finished and fingerprint's processing.done; documents' processing.done of the
    // text files, processing.failed of the corrupt PDF: 9 events.
    const expected = (events: Map<string, ReceivedEvent>) => {
      const all = [...events.values()];
      const has = (uploadId: string, type: string, kind?: string) => all.some((e) => e.data.uploadId === uploadId && e.type === type && (!kind || e.data.kind === kind));
      return [a, b, pdf].every((id) => has(id, 'upload.finished') && has(id, 'processing.done', 'fingerprint'))
        && [a, b].every((id) => has(id, 'processing.done', 'documents')) && has(pdf, 'processing.failed', 'documents');
    };

    // Failing: every delivery is attempted and retried.
    await waitUntil('two failed attempts of each upload.finished', () =>
      [a, b, pdf].every((id) => receiver.attempts.filter((t) => t.path === '/owner' && t.eventId === `upload.finished.${id}` && t.mode === 'fail').length >= 2));
    await waitUntil('the 410 endpoint disabled', async () =>
      ((await (await fetch(`${server.url}/api/webhooks/${gone.body.id as string}`)).json()) as { disabledAt: string | null }).disabledAt !== null);
    // Slow: the attempts time out and are retried.
    receiver.mode = 'slow';
    const slowFrom = receiver.attempts.length;
    await waitUntil('three attempts past the timeout', () => receiver.attempts.slice(slowFrom).filter((t) => t.mode === 'slow').length >= 3);
    // The node restarts while deliveries are pending: they are taken up again from the catalogue.
    expect(await server.terminate()).toBe(0);
    server = await spawnServer(env, dataDir);
    receiver.mode = 'ok';
    await waitUntil('every event at the owner and the operator', () => {
      const at = (path: string) => new Map([...receiver.events].filter(([id]) => receiver.acceptedAt(path).has(id)));
      return expected(at('/owner')) && expected(at('/operator'));
    });
    // Quiet for a while: nothing arrives twice.
    await new Promise((r) => setTimeout(r, 1500));
    for (const path of ['/owner', '/operator']) {
      const counts = [...receiver.acceptedAt(path).values()];
      expect(counts.length, `${path}: ${[...receiver.acceptedAt(path).keys()].join(" ")}`).toBe(9);
      expect(counts.every((n) => n === 1), `${path}: ${JSON.stringify([...receiver.acceptedAt(path)])}`).toBe(true);
    }
    expect(receiver.attempts.every((t) => t.signed)).toBe(true);
    expect(receiver.attempts.filter((t) => t.path === '/gone')).toHaveLength(1);
    const failed = [...receiver.events.values()].find((e) => e.type === 'processing.failed')!;
    expect(failed).toMatchObject({ tenant: '', owner: '', data: { uploadId: pdf, kind: 'documents', outcome: 'failed', errorCode: 'CORRUPT_FILE' } });
    expect(failed.data.fileId).toEqual(expect.any(String));

    // Every attempt is visible.
    const res = await fetch(`${server.url}/api/webhooks/${owner.body.id as string}/deliveries`);
    expect(res.status).toBe(200);
    const { deliveries } = (await res.json()) as { deliveries: Array<{ eventId: string; eventType: string; state: string; attempts: number; lastStatus: number; deliveredAt: string | null; history: Array<{ status: number | null; error: string | null }> }> };
    expect(deliveries).toHaveLength(9);
    for (const d of deliveries) DeliverySchema.strict().parse(d);
    expect(deliveries.every((d) => d.state === 'delivered' && d.lastStatus === 204 && d.deliveredAt)).toBe(true);
    const finished = deliveries.find((d) => d.eventId === `upload.finished.${a}`)!;
    expect(finished.attempts).toBeGreaterThanOrEqual(3);
    expect(finished.history.some((h) => h.status === 500)).toBe(true);
    // Which deliveries were attempted while the receiver was slow depends on timing: some were.
    expect(deliveries.some((d) => d.history.some((h) => h.status === null && /no answer within/.test(h.error ?? '')))).toBe(true);
    const operator = (await (await fetch(`${server.url}/api/webhooks`, { headers: {} })).json()) as { webhooks: unknown[] };
    expect(operator.webhooks).toHaveLength(2);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/tus_webhook_deliveries_total\{outcome="delivered"\} \d+/);
    expect(metrics).toMatch(/tus_webhook_queue_depth 0/);

    // Deleted: gone for its owner.
    expect((await fetch(`${server.url}/api/webhooks/${gone.body.id as string}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${server.url}/api/webhooks/${gone.body.id as string}`)).status).toBe(404);
  });
});

describe('webhooks on the embedded queue with a worker of its own', () => {
  it('turns the outcomes of a separate worker (directory queue) into events, once', { timeout: 60_000 }, async () => {
    const dir = await tempDir('webhooks-worker-');
    const node = await spawnServer({ ...env, PROCESSORS_IN_PROCESS: 'false', EXPIRY_SWEEP_INTERVAL: '300ms', WEBHOOK_URLS: '', WEBHOOK_SECRET: '' }, dir);
    const port = await freePort();
    const worker = spawn(process.execPath, [path.join(REPO_ROOT, 'processors/dist/main.js')], {
      env: { PATH: process.env.PATH, DATA_DIR: dir, HOST: '127.0.0.1', PROCESSORS_PORT: String(port), LOG_LEVEL: 'error', PROCESSOR_KINDS: 'fingerprint' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    try {
      receiver.mode = 'ok';
      const hook = await register(`${receiver.url}/worker`, ['processing.done', 'processing.failed'], node.url);
      expect(hook.status).toBe(201);
      receiver.secrets.set('/worker', hook.body.secret as string);
      const id = await upload(Buffer.from('processed by a worker of its own\n'), 'w.txt', 'text/plain', node.tusUrl);
      await waitUntil('the fingerprint outcome at the endpoint', () =>
        [...receiver.acceptedAt('/worker').keys()].some((e) => receiver.events.get(e)?.data.uploadId === id && receiver.events.get(e)?.data.kind === 'fingerprint'), 45_000);
      await new Promise((r) => setTimeout(r, 1000));
      expect([...receiver.acceptedAt('/worker').entries()]).toEqual([[expect.stringMatching(/:fingerprint$/), 1]]);
    } finally {
      if (worker.exitCode === null) {
        const exited = new Promise((r) => worker.once('exit', r));
        worker.kill('SIGTERM');
        await exited;
      }
      await node.kill();
    }
  });
});
