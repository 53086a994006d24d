import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_ENV, bearer, userToken } from '@tus-edge/testkit';
import { startTestServer, type TestServer } from '../../test/harness.js';
import { operatorEndpointId } from '../webhooks/webhooks.js';
import { CreatedWebhookSchema, WebhookSchema } from './webhooks.js';

const OPERATOR_TOKEN = 'operator-token-of-the-webhooks-api-test-0123456789';
const OPERATOR_URL = 'https://203.0.113.10/operator-hook';
let server: TestServer;
let alice: Record<string, string>;
let bob: Record<string, string>;

beforeAll(async () => {
  // WEBHOOK_ALLOW_PRIVATE is off (the default): private targets are refused.
  server = await startTestServer({ ...AUTH_ENV, OPERATOR_TOKEN, WEBHOOK_URLS: OPERATOR_URL, WEBHOOK_SECRET: 'operator-webhook-secret-0123456789' });
  alice = bearer(await userToken('alice'));
  bob = bearer(await userToken('bob'));
});
afterAll(() => server?.close());

const api = (path: string, headers: Record<string, string>, init: RequestInit = {}) =>
  fetch(`${server.url}${path}`, { ...init, headers: { ...headers, 'Content-Type': 'application/json' } });
const post = (headers: Record<string, string>, body: unknown) => api('/api/webhooks', headers, { method: 'POST', body: JSON.stringify(body) });

describe('/api/webhooks', () => {
  it('refuses private, loopback, link-local and metadata targets with a catalogue error', async () => {
    for (const url of ['http://127.0.0.1:9/hook', 'http://localhost/hook', 'http://10.0.0.1/hook', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/hook', 'http://[fd00:ec2::254]/']) {
      const res = await post(alice, { url, events: ['upload.finished'] });
      expect(res.status, url).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('WEBHOOK_TARGET_REFUSED');
    }
  });

  it('validates the body', async () => {
    for (const body of [{}, { url: 'https://93.184.216.34/h', events: [] }, { url: 'https://93.184.216.34/h', events: ['nope'] }, { url: 'https://93.184.216.34/h', events: ['upload.finished'], extra: 1 }]) {
      const res = await post(alice, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INVALID_REQUEST_BODY');
    }
  });

  it('is owner-scoped: another owner neither sees nor deletes an endpoint', async () => {
    const res = await post(alice, { url: 'https://93.184.216.34/hook', events: ['processing.failed', 'upload.finished'], description: 'alerts' });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; secret: string; events: string[] };
    expect(created).toMatchObject({ url: 'https://93.184.216.34/hook', events: ['processing.failed', 'upload.finished'], description: 'alerts', disabledAt: null });
    expect(created.secret).toMatch(/^whsec_/);
    // The responses are what the OpenAPI document says, and nothing more (no secret, owner or tenant).
    CreatedWebhookSchema.strict().parse(created);
    const mine = (await (await api(`/api/webhooks/${created.id}`, alice)).json()) as Record<string, unknown>;
    expect(mine.secret).toBeUndefined();
    expect(mine.tenant).toBeUndefined();
    WebhookSchema.strict().parse(mine);
    expect((await api(`/api/webhooks/${created.id}`, bob)).status).toBe(404);
    expect((await api(`/api/webhooks/${created.id}/deliveries`, bob)).status).toBe(404);
    expect((await api(`/api/webhooks/${created.id}`, bob, { method: 'DELETE' })).status).toBe(404);
    expect(((await (await api('/api/webhooks', bob)).json()) as { webhooks: unknown[] }).webhooks).toEqual([]);
    expect(((await (await api('/api/webhooks', alice)).json()) as { webhooks: Array<{ id: string }> }).webhooks.map((w) => w.id)).toEqual([created.id]);
    expect(await (await api(`/api/webhooks/${created.id}/deliveries?limit=10`, alice)).json()).toEqual({ deliveries: [], nextBefore: null });
    expect((await api(`/api/webhooks/${created.id}/deliveries?limit=0`, alice)).status).toBe(400);
    expect((await api(`/api/webhooks/${created.id}`, alice, { method: 'DELETE' })).status).toBe(204);
    expect((await api(`/api/webhooks/${created.id}`, alice)).status).toBe(404);
    expect((await api('/api/webhooks', {})).status).toBe(401);
  });

  it('shows the operator the endpoints of WEBHOOK_URLS; those are not registered through the API', async () => {
    const operator = bearer(OPERATOR_TOKEN);
    const listed = (await (await api('/api/webhooks', operator)).json()) as { webhooks: Array<{ id: string; url: string; operator: boolean; events: string[] }> };
    for (const w of listed.webhooks) WebhookSchema.strict().parse(w);
    expect(listed.webhooks).toEqual([expect.objectContaining({ id: operatorEndpointId(OPERATOR_URL), url: OPERATOR_URL, operator: true, events: ['upload.finished', 'processing.done', 'processing.failed'] })]);
    expect((await api(`/api/webhooks/${listed.webhooks[0]!.id}/deliveries`, operator)).status).toBe(200);
    expect((await api(`/api/webhooks/${listed.webhooks[0]!.id}`, alice)).status).toBe(404);
    const refused = await post(operator, { url: 'https://93.184.216.34/hook', events: ['upload.finished'] });
    expect(refused.status).toBe(403);
  });
});
