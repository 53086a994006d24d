/**
 * The described API's plumbing: a documented route is mounted and listed in `/api/openapi.json`
 * (OpenAPI 3.1), `/api/docs` serves the interactive reference, and bodies and queries that do not
 * match their schema answer from the error catalogue.
 */
import { describe, expect, it } from 'vitest';
import { errorResponse } from './respond.js';
import { createApiApp, documented, errors, json, jsonBody, mountApiDocs, queryOf, route, z } from './openapi.js';
import { silentLogger } from '@tus-edge/processors';
import { Metrics } from '../ops/metrics.js';

function app() {
  const api = createApiApp();
  const metrics = new Metrics();
  const logger = silentLogger;
  const Echo = z.object({ name: z.string().min(1), count: z.number().int().positive().optional() });
  documented(api, route({
    method: 'post', path: '/api/echo/{id}', tags: ['test'], summary: 'echo',
    request: { params: z.object({ id: z.string() }), query: z.object({ loud: z.enum(['yes', 'no']).optional() }), body: { content: { 'application/json': { schema: Echo } } } },
    responses: { 200: json(Echo.extend({ id: z.string() }), 'echoed'), ...errors('INVALID_REQUEST_BODY', 'INVALID_QUERY', 'REQUEST_TOO_LARGE') },
  }), async (c) => {
    try {
      const query = queryOf(c, z.object({ loud: z.enum(['yes', 'no']).optional() }));
      const body = await jsonBody(c, Echo, 1000);
      return c.json({ ...body, name: query.loud === 'yes' ? body.name.toUpperCase() : body.name, id: c.req.param('id') });
    } catch (err) {
      return errorResponse(err, metrics, logger);
    }
  });
  mountApiDocs(api, '0.0.0');
  return api;
}

const post = (body: string, query = '') =>
  app().request(`/api/echo/7${query}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });

describe('described API', () => {
  it('mounts a documented route and validates its body and query from the same schemas', async () => {
    const ok = await post('{"name":"a","count":2}', '?loud=yes');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ name: 'A', count: 2, id: '7' });
    const bad = await post('{"count":-1}');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('INVALID_REQUEST_BODY');
    const badQuery = await post('{"name":"a"}', '?loud=maybe');
    expect(badQuery.status).toBe(400);
    expect(((await badQuery.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'INVALID_QUERY', message: expect.stringContaining('loud') });
  });

  it('lists the route in an OpenAPI 3.1 document and serves the reference page', async () => {
    const api = app();
    const doc = (await (await api.request('/api/openapi.json')).json()) as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths['/api/echo/{id}']!)).toEqual(['post']);
    // Its own, and those the middleware in front of every bearer route may answer (401, 403, 429, 500, 503).
    expect(Object.keys(doc.paths['/api/echo/{id}']!.post!.responses).sort()).toEqual(['200', '400', '401', '403', '413', '429', '500', '503']);
    const page = await api.request('/api/docs');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/api/openapi.json');
  });
});
