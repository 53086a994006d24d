import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@tus-edge/processors';
import { openCatalogueDb, type CatalogueDb } from '../catalogue/database.js';
import { parseWebhooks } from '../config/webhooks.js';
import type { Logger } from '../ops/logger.js';
import type { DeliveryQueue } from './queue.js';
import { SqlWebhookStore } from './sql-store.js';
import type { WebhookEvent } from './types.js';
import { deliveryId, operatorEndpointId, Webhooks } from './webhooks.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'webhooks-unit-'));
let db: CatalogueDb;
let receiver: http.Server;
let url: string;
const statusOf: Record<string, number> = {};
beforeAll(async () => {
  db = openCatalogueDb({ kind: 'sqlite', file: path.join(root, 'catalogue.db') });
  await db.migrate();
  receiver = http.createServer((req, res) => {
    req.resume();
    res.writeHead(statusOf[req.url ?? ''] ?? 204).end();
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(async () => {
  receiver.closeAllConnections();
  await new Promise((r) => receiver.close(r));
  await db.close();
  fs.rmSync(root, { recursive: true, force: true });
});

/** The queue side is the test's: it records what was pushed; attempts are made by calling `attempt`. */
function webhooks(env: Record<string, string> = {}, now = () => new Date()) {
  const pushed: string[] = [];
  const queue: DeliveryQueue = { name: 'catalogue', push: async (ids) => void pushed.push(...ids), start: async () => undefined, stop: async () => undefined };
  const store = new SqlWebhookStore(db);
  const hooks = new Webhooks({
    store, config: parseWebhooks({ WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_TIMEOUT: '1s', WEBHOOK_BACKOFF_BASE: '1s', WEBHOOK_BACKOFF_MAX: '10s', ...env }),
    logger: silentLogger as unknown as Logger, registry: new Registry(), owners: { catalogue: { byUpload: async () => undefined }, records: { get: async () => undefined } },
    queue, now,
  });
  return { hooks, store, pushed };
}

let n = 0;
const event = (owner: string, type: WebhookEvent['type'] = 'upload.finished', createdAt = new Date().toISOString()): WebhookEvent => ({
  id: `upload.finished.u${++n}`, type, createdAt, tenant: 't', owner, data: { uploadId: `u${n}`, fileId: null },
});

describe('Webhooks', () => {
  it("sends an owner's events to that owner's subscribed endpoints and to the operator's, once", async () => {
    const operatorUrl = `${url}/operator`;
    const { hooks, store, pushed } = webhooks({ WEBHOOK_URLS: operatorUrl, WEBHOOK_SECRET: 'x'.repeat(24) });
    const mine = await store.createEndpoint({ scope: { tenant: 't', owner: 'alice' }, url: `${url}/a`, events: ['upload.finished'], description: null, secret: 's' }, new Date());
    await store.createEndpoint({ scope: { tenant: 't', owner: 'alice' }, url: `${url}/a2`, events: ['processing.done'], description: null, secret: 's' }, new Date());
    await store.createEndpoint({ scope: { tenant: 't', owner: 'bob' }, url: `${url}/b`, events: ['upload.finished'], description: null, secret: 's' }, new Date());
    const e = event('alice');
    expect(await hooks.emit(e)).toBe(2);
    expect(await hooks.emit(e)).toBe(0);
    expect(pushed.sort()).toEqual([deliveryId(mine.id, e.id), deliveryId(operatorEndpointId(operatorUrl), e.id)].sort());
    // Nobody's (the upload is gone): only the operator's.
    expect(await hooks.emit({ ...event('x'), tenant: null, owner: null })).toBe(1);
    for (const id of pushed) expect(await hooks.attempt(id)).toEqual({ done: true });
    expect(await hooks.attempt(pushed[0]!)).toEqual({ done: true });
    expect((await store.deliveries(mine.id, 10))[0]).toMatchObject({ state: 'delivered', attempts: 1, lastStatus: 204 });
  });

  it('retries with backoff, gives up after WEBHOOK_RETRY_FOR, disables on 410 and when the endpoint went', async () => {
    let clock = Date.parse('2030-01-01T00:00:00Z');
    const { hooks, store, pushed } = webhooks({ WEBHOOK_RETRY_FOR: '5s' }, () => new Date(clock));
    const scope = { tenant: 't', owner: 'carol' };
    statusOf['/fail'] = 500;
    statusOf['/gone'] = 410;
    const failing = await store.createEndpoint({ scope, url: `${url}/fail`, events: ['upload.finished'], description: null, secret: 's' }, new Date(clock));
    await hooks.emit(event('carol', 'upload.finished', new Date(clock).toISOString()));
    const [id] = pushed.splice(0);
    const first = await hooks.attempt(id!);
    expect(first).toEqual({ retryInMs: expect.any(Number) });
    const wait = (first as { retryInMs: number }).retryInMs;
    expect(wait).toBeGreaterThanOrEqual(500);
    expect(wait).toBeLessThanOrEqual(1000);
    // Not due yet: told when it is.
    expect(await hooks.attempt(id!)).toEqual({ retryInMs: wait });
    for (let i = 0; i < 10 && (await store.deliveries(failing.id, 1))[0]!.state === 'pending'; i++) {
      clock += 10_000;
      await hooks.attempt(id!);
    }
    expect((await store.deliveries(failing.id, 1))[0]).toMatchObject({ state: 'failed', lastStatus: 500, nextAttemptAt: null });

    const gone = await store.createEndpoint({ scope: { tenant: 't', owner: 'dan' }, url: `${url}/gone`, events: ['upload.finished'], description: null, secret: 's' }, new Date(clock));
    await hooks.emit(event('dan', 'upload.finished', new Date(clock).toISOString()));
    await hooks.emit(event('dan', 'upload.finished', new Date(clock).toISOString()));
    const [g1, g2] = pushed.splice(0);
    expect(await hooks.attempt(g1!)).toEqual({ done: true });
    expect((await store.getEndpoint({ tenant: 't', owner: 'dan' }, gone.id))?.disabledAt).not.toBeNull();
    expect(await hooks.attempt(g2!)).toEqual({ done: true });
    expect((await store.deliveries(gone.id, 10)).map((d) => [d.state, d.lastStatus, d.lastError])).toEqual(
      expect.arrayContaining([['disabled', 410, null], ['disabled', null, expect.stringMatching(/^endpoint disabled/)]]),
    );

    const removed = await store.createEndpoint({ scope: { tenant: 't', owner: 'erin' }, url: `${url}/ok`, events: ['upload.finished'], description: null, secret: 's' }, new Date(clock));
    await hooks.emit(event('erin', 'upload.finished', new Date(clock).toISOString()));
    await store.removeEndpoint({ tenant: 't', owner: 'erin' }, removed.id);
    expect(await hooks.attempt(pushed.splice(0)[0]!)).toEqual({ done: true });
    expect((await store.deliveries(removed.id, 1))[0]).toMatchObject({ state: 'disabled', lastError: 'endpoint removed' });
  });
});
