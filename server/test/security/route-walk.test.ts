/**
 * Walks every route the app mounts (read from Hono's route table, so a new route cannot be missed)
 * with no token, another user's token, an expired token and a token signed with the wrong key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { startTestServer, type TestServer } from '../harness.js';
import { documentedApi, type DocumentedApi } from '../openapi.js';
import { AUTH_ENV, bearer, userToken } from '@tus-edge/testkit';

const METRICS_TOKEN = 'metrics-token-123456';
const TUS_METHODS = ['POST', 'HEAD', 'PATCH', 'DELETE', 'GET', 'OPTIONS'];
const OPEN = new Set(['/healthz', '/readyz', '/api/openapi.json', '/api/docs']);
/** Public browser assets (the SDK bundle, the demo page, the operator page's files, the API reference's script and style): served to anyone, never 401. */
const isAsset = (p: string) => p.startsWith('/sdk/') || p === '/demo' || p.startsWith('/demo/') || p.startsWith('/api/docs/') || p === '/admin' || p.startsWith('/admin/');

interface Call {
  method: string;
  path: string;
  /** The path names alice's upload. */
  namesUpload: boolean;
}

describe('route walk: every route, four kinds of bad credentials', () => {
  let server: TestServer;
  let api: DocumentedApi;
  let calls: Call[] = [];
  let uploadId = '';
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    server = await startTestServer({ ...AUTH_ENV, METRICS_TOKEN, RATE_LIMIT_REQUESTS: '0', RATE_LIMIT_CREATIONS: '0' });
    api = await documentedApi(server.url);
    tokens.alice = await userToken('alice');
    tokens.bob = await userToken('bob');
    tokens.expired = await userToken('alice', { expiresIn: -120 });
    tokens.wrongKey = await userToken('alice', { secret: 'not-the-server-key-0123456789' });
    const created = await fetch(server.tusUrl, {
      method: 'POST',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '3', 'Content-Type': 'application/offset+octet-stream', ...bearer(tokens.alice) },
      body: 'abc',
    });
    uploadId = created.headers.get('location')!.split('/').pop()!;
    const seen = new Set<string>();
    for (const route of createApp(server.deps).hono.routes) {
      if (route.path === '*' || route.path.endsWith('/*')) continue;
      const methods = route.method === 'ALL' ? TUS_METHODS : [route.method];
      const path = route.path.replace(/:id(\{[^}]*\})?/, uploadId).replace(':name', 'metadata.json');
      for (const method of methods) {
        const key = `${method} ${path}`;
        if (seen.has(key)) continue;
        seen.add(key);
        // Operator routes answer 403 to everyone else before reading their id (which is no upload's).
        calls.push({ method, path, namesUpload: path.includes(uploadId) && !path.startsWith('/api/admin/') });
      }
    }
  });
  afterAll(() => server?.close());

  const send = (call: Call, token?: string) =>
    fetch(`${server.url}${call.path}`, {
      method: call.method,
      headers: {
        'Tus-Resumable': '1.0.0',
        ...(call.method === 'PATCH' ? { 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': '3' } : {}),
        ...(call.method === 'POST' && call.path.startsWith('/files') ? { 'Upload-Length': '1' } : {}),
        ...(call.method === 'POST' && call.path.startsWith('/api') ? { 'Content-Type': 'application/json' } : {}),
        ...(token ? bearer(token) : {}),
      },
      body: call.method === 'PATCH' ? 'x' : call.method === 'POST' && call.path.startsWith('/api') ? '{}' : undefined,
      signal: AbortSignal.timeout(10_000),
    });

  it('finds the routes it must walk', () => {
    const paths = new Set(calls.map((c) => `${c.method} ${c.path.replace(uploadId, ':id')}`));
    for (const expected of ['PATCH /files/:id', 'GET /api/uploads/:id', 'GET /api/uploads/:id/events', 'GET /api/uploads/:id/results/metadata.json', 'POST /api/upload-tokens', 'POST /api/uploads/:id/signed-url', 'GET /api/usage', 'GET /metrics']) {
      expect(paths, expected).toContain(expected);
    }
  });

  it.each(['none', 'expired', 'wrongKey'] as const)('with %s: 401 and a Bearer challenge everywhere but the open routes', async (kind) => {
    for (const call of calls) {
      const res = await send(call, kind === 'none' ? undefined : tokens[kind]);
      // Every answer of a documented operation is a documented answer (status, headers, body).
      if (api.documents(call.method, call.path)) await api.checkResponse(call.method, res, call.path);
      await res.body?.cancel();
      const label = `${call.method} ${call.path} (${kind})`;
      if (OPEN.has(call.path)) expect(res.status, label).toBe(200);
      else if (isAsset(call.path)) expect(res.status, label).not.toBe(401);
      else if (call.method === 'OPTIONS' && call.path.startsWith('/files')) expect(res.status, label).toBeLessThan(300);
      else {
        expect(res.status, label).toBe(401);
        expect(res.headers.get('www-authenticate'), label).toMatch(/^Bearer /);
      }
    }
  });

  it("with another user's token: 404 wherever alice's upload is named, and nothing of hers changes", async () => {
    for (const call of calls) {
      const res = await send(call, tokens.bob);
      if (api.documents(call.method, call.path)) await api.checkResponse(call.method, res, call.path);
      const body = await res.text();
      const label = `${call.method} ${call.path} (bob)`;
      expect(res.status, label).toBeLessThan(500);
      if (call.path === '/metrics') expect(res.status, label).toBe(401);
      else if (call.namesUpload && call.method !== 'OPTIONS') {
        expect(res.status, label).toBe(404);
        expect(body, label).not.toContain('abc');
      } else expect(res.status, label).not.toBe(401);
    }
    const head = await fetch(`${server.tusUrl}/${uploadId}`, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0', ...bearer(tokens.alice) } });
    expect([head.status, head.headers.get('upload-offset')]).toEqual([200, '3']);
  });

  it('lets the metrics token, and only it, read /metrics', async () => {
    expect((await fetch(`${server.url}/metrics`, { headers: bearer(METRICS_TOKEN) })).status).toBe(200);
    expect((await fetch(`${server.url}/metrics`, { headers: bearer(tokens.alice) })).status).toBe(401);
  });

  it('answers CORS preflights without a token', async () => {
    const res = await fetch(`${server.tusUrl}/${uploadId}`, { method: 'OPTIONS', headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'PATCH' } });
    expect(res.status).toBe(204);
  });
});
