/**
 * The one described API: `/api/openapi.json` is a valid OpenAPI 3.1 document (checked by a real
 * validator), and every route the app mounts (read from Hono's route table, so a new route cannot be
 * missed) is in it with each method it answers.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { startTestServer, type TestServer } from '../harness.js';
import { documentedApi, type DocumentedApi } from '../openapi.js';

const METHODS = ['POST', 'HEAD', 'PATCH', 'DELETE', 'GET', 'OPTIONS'];

/** Mounted but not API operations, each with why. */
const NOT_OPERATIONS: Array<[RegExp, string]> = [
  [/^\/sdk\//, 'the browser SDK bundle: a static asset'],
  [/^\/demo(\/|$)/, 'the demo page: static assets'],
  [/^\/api\/docs(\/|$)/, 'the reference page and its script and style: what renders this document'],
  [/^\/admin(\/|$)/, "the operator page: static assets (the data it shows comes from documented /api routes)"],
];

/** `/files/:id{.+}` (Hono) → `/files/{id}` (OpenAPI); the collection with a trailing slash is the collection. */
const openApiPath = (honoPath: string) => honoPath.replace(/:([A-Za-z_]+)(\{[^}]*\})?/g, '{$1}').replace(/(.)\/$/, '$1');

describe('/api/openapi.json', () => {
  let server: TestServer;
  let api: DocumentedApi;
  beforeAll(async () => {
    server = await startTestServer();
    api = await documentedApi(server.url);
  });
  afterAll(() => server?.close());

  it('is a valid OpenAPI 3.1 document listing the upload API, with tags on every operation', async () => {
    const result = await new Validator().validate(api.doc as unknown as Record<string, unknown>);
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 1)?.slice(0, 2000)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(api.doc.openapi).toBe('3.1.0');
    // The acceptance contract: the upload API and the analytics of processing are listed.
    expect(api.doc.paths['/api/uploads/{id}']?.get).toBeDefined();
    expect(api.doc.paths['/api/analytics/processing']?.get).toBeDefined();
    for (const [path, item] of Object.entries(api.doc.paths)) {
      for (const [method, op] of Object.entries(item)) expect(op.tags?.length, `${method} ${path}`).toBeGreaterThan(0);
    }
    // tus and the IETF draft share the upload endpoint: one operation per method, described by both.
    expect(api.doc.paths['/files/{id}']!.patch!.tags).toEqual(['ietf-draft', 'tus']);
    expect(api.doc.paths['/files']!.post!.tags).toEqual(['ietf-draft', 'tus']);
  });

  it('lists every mounted route with each method it answers', async () => {
    const missing: string[] = [];
    const checked: string[] = [];
    for (const route of createApp(server.deps).hono.routes) {
      if (route.path === '*' || route.path === '/*') continue; // middleware
      if (NOT_OPERATIONS.some(([re]) => re.test(route.path))) continue;
      const path = openApiPath(route.path);
      let methods = [route.method];
      if (route.method === 'ALL') {
        // tus and the draft mount one handler for every method: the methods it serves are those it does not refuse with 405.
        const concrete = path.replace('{id}', 'no-such-upload');
        methods = [];
        for (const method of METHODS) {
          const res = await fetch(`${server.url}${concrete}`, { method, headers: { 'Tus-Resumable': '1.0.0' } });
          await res.body?.cancel();
          if (res.status !== 405) methods.push(method);
        }
        expect(methods.length, path).toBeGreaterThan(0);
      }
      for (const method of methods) {
        checked.push(`${method} ${path}`);
        if (!api.doc.paths[path]?.[method.toLowerCase()]) missing.push(`${method} ${path} (mounted as ${route.path})`);
      }
    }
    expect(missing).toEqual([]);
    for (const expected of ['GET /api/uploads/{id}', 'POST /files', 'PATCH /files/{id}', 'OPTIONS /files/{id}', 'GET /healthz', 'GET /metrics']) {
      expect(checked).toContain(expected);
    }
  });

  it('checks answers: a documented one passes, an undocumented status or a wrong body fails', async () => {
    await api.checkResponse('GET', await fetch(`${server.url}/healthz`));
    await api.checkResponse('GET', await fetch(`${server.url}/api/uploads/nope`));
    const fake = (status: number, body: string) => new Response(body, { status, headers: { 'Content-Type': 'application/json' } });
    await expect(api.checkResponse('GET', fake(200, '{"status":"bad"}'), '/healthz')).rejects.toThrow(/does not match/);
    await expect(api.checkResponse('GET', fake(418, '{}'), '/api/uploads/x')).rejects.toThrow(/status not documented/);
    await expect(api.checkResponse('GET', fake(200, '{}'), '/api/nothing-here')).rejects.toThrow(/not in the OpenAPI document/);
  });
});
