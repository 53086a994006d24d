import { OpenAPIHono, z, type RouteConfig } from '@hono/zod-openapi';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Context, Handler } from 'hono';
import { readJsonObject } from './json-body.js';
import { ERRORS, tusError, type ErrorCode } from '../errors.js';

/**
 * The one described API (issue 15): every non-tus route is declared with {@link documented}, which
 * puts its request and response schemas (zod) in the OpenAPI document and mounts its handler. Bodies
 * and queries are validated by the handler from the same schemas ({@link jsonBody}, {@link queryOf}),
 * so a slow body still meets REQUEST_TIMEOUT and a bad one answers from the error catalogue.
 *
 * Convention for a new route:
 * ```ts
 * const getFile = route({ method: 'get', path: '/api/files/{id}', tags: ['files'], summary: '…',
 *   request: { params: z.object({ id: z.string() }) },
 *   responses: { 200: json(FileSchema, 'the file'), ...errors('FILE_NOT_FOUND', 'TOKEN_SCOPE') } });
 * documented(app, getFile, async (c) => c.json(…));
 * ```
 */
export type ApiApp = OpenAPIHono;

export { z };

/** The application every route mounts on (an OpenAPIHono: a Hono that keeps an OpenAPI registry). */
export function createApiApp(): ApiApp {
  return new OpenAPIHono();
}

/** A route definition (identity: keeps the literal types). */
export function route<R extends RouteConfig>(config: R): R {
  return config;
}

/** `{"error":{"code","message"}}`: every error of this server (see the catalogue in errors.ts). */
export const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .openapi('Error');

/** The schema of a body of bytes (an upload chunk, a download). */
export const BYTES = { type: 'string' as const, contentMediaType: 'application/octet-stream' };

/** `?expires&signature` of a signed URL (`POST /api/uploads/{id}/signed-url`): a download that needs no token. */
export const SignedQuery = z.object({
  expires: z.string().optional().describe('signed URL: expiry (Unix seconds)'),
  signature: z.string().optional().describe('signed URL: signature of the path and expiry'),
});

/** A JSON response entry for `responses`. */
export function json<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** Response entries for catalogue errors, grouped by status (descriptions list the codes). */
export function errors(...codes: ErrorCode[]): Record<number, ReturnType<typeof json>> {
  const byStatus = new Map<number, string[]>();
  for (const code of codes) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  return Object.fromEntries([...byStatus].map(([status, names]) => [status, json(ErrorSchema, names.join(', '))]));
}

/** `/api/files/{id}` (OpenAPI) → `/api/files/:id` (Hono). */
export function honoPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

/**
 * Errors the middleware in front of every route can answer with, whatever the route: a draining node
 * (503) and an unexpected failure (500); and for the routes behind the bearer token (those that
 * declare no `security` of their own), the token itself (401, 403), the rate limit (429) and the API
 * body limit (413).
 */
const EVERY_ROUTE: ErrorCode[] = ['SHUTTING_DOWN', 'INTERNAL'];
const AUTHENTICATED: ErrorCode[] = ['AUTH_REQUIRED', 'AUTH_INVALID', 'AUTH_EXPIRED', 'AUTH_UNAVAILABLE', 'TOKEN_SCOPE', 'RATE_LIMITED', 'REQUEST_TOO_LARGE'];

type Responses = RouteConfig['responses'];
type Response = Exclude<Responses[string], { $ref: string }>;

/**
 * `responses` with the catalogue errors `codes` added: a new status gets the Error schema; a status the
 * route documents already lists the codes it lacks, and answers either its own JSON or an Error.
 */
function withErrors(responses: Responses, codes: ErrorCode[]): Responses {
  const out: Responses = { ...responses };
  for (const [status, entry] of Object.entries(errors(...codes))) {
    const have = out[status] as Response | undefined;
    const schema = (have?.content?.['application/json'] as { schema?: unknown } | undefined)?.schema;
    if (!have) out[status] = entry;
    else if (schema) {
      const listed = new Set((have.description ?? '').split(/,\s*/));
      const missing = entry.description.split(', ').filter((c) => !listed.has(c));
      if (missing.length === 0) continue;
      if (schema === ErrorSchema) out[status] = { ...have, description: [have.description, ...missing].filter(Boolean).join(', ') };
      else {
        const either = z.union([schema as z.ZodType, ErrorSchema]);
        out[status] = { ...have, description: `${have.description}; or an Error: ${missing.join(', ')}`, content: { ...have.content, 'application/json': { schema: either } } };
      }
    }
  }
  return out;
}

/**
 * Documents `config` in the OpenAPI document and mounts `handler` at its method and path. The errors
 * the middleware may answer with on this route are added to its responses (see {@link EVERY_ROUTE}).
 */
export function documented(app: ApiApp, config: RouteConfig, handler: Handler): void {
  const bearer = config.security === undefined;
  const responses = withErrors(config.responses, bearer ? [...EVERY_ROUTE, ...AUTHENTICATED] : EVERY_ROUTE);
  app.openAPIRegistry.registerPath({ ...config, responses });
  app.on(config.method.toUpperCase(), honoPath(config.path), handler);
}

/** Two descriptions of one response (same status) as one: descriptions, headers and contents joined. */
function mergeResponse(a: Response, b: Response): Response {
  const description = a.description === b.description ? a.description : [a.description, b.description].filter(Boolean).join('; ');
  const headers = { ...(a.headers as object | undefined), ...(b.headers as object | undefined) } as NonNullable<Response['headers']>;
  const content = a.content || b.content ? { ...a.content, ...b.content } : undefined;
  return { ...a, ...b, description, ...(headers && Object.keys(headers).length > 0 ? { headers } : {}), ...(content ? { content } : {}) };
}

/**
 * Documents a route another module mounts itself (tus, the IETF draft, the operations endpoints).
 * Two protocols on one method and path (tus and the IETF draft share the upload endpoint) are one
 * operation: the second description is merged into the first (tags, header parameters, responses).
 */
export function describedOnly(app: ApiApp, config: RouteConfig): void {
  const same = app.openAPIRegistry.definitions.find(
    (d): d is Extract<typeof d, { type: 'route' }> => d.type === 'route' && d.route.method === config.method && d.route.path === config.path,
  );
  if (!same) return app.openAPIRegistry.registerPath(config);
  const a = same.route;
  const responses: Responses = { ...a.responses };
  for (const [status, entry] of Object.entries(config.responses)) {
    responses[status] = responses[status] ? mergeResponse(responses[status] as Response, entry as Response) : entry;
  }
  const headersA = a.request?.headers as z.ZodObject | undefined;
  const headersB = config.request?.headers as z.ZodObject | undefined;
  let headers = headersA ?? headersB;
  if (headersA && headersB) {
    // A header both protocols read keeps both descriptions.
    const shape = { ...headersB.shape };
    for (const [name, schema] of Object.entries(shape)) {
      const before = headersA.shape[name]?.description;
      if (before && schema.description && before !== schema.description) shape[name] = schema.describe(`${schema.description}; ${before}`);
    }
    headers = headersA.extend(shape);
  }
  const bodyA = a.request?.body;
  const bodyB = config.request?.body;
  const body = bodyA && bodyB ? { ...bodyA, ...bodyB, content: { ...bodyA.content, ...bodyB.content } } : (bodyA ?? bodyB);
  same.route = {
    ...a,
    tags: [...new Set([...(a.tags ?? []), ...(config.tags ?? [])])],
    summary: [a.summary, config.summary].filter(Boolean).join(' / '),
    description: [a.description, config.description].filter(Boolean).join('\n\n'),
    request: { ...a.request, ...config.request, headers, body },
    responses,
  };
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  return issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
}

/** The JSON object body, read within `timeoutMs` and validated by `schema` (INVALID_REQUEST_BODY otherwise). */
export async function jsonBody<T extends z.ZodType>(c: Context, schema: T, timeoutMs: number): Promise<z.infer<T>> {
  const parsed = schema.safeParse(await readJsonObject(c, timeoutMs));
  if (!parsed.success) throw tusError('INVALID_REQUEST_BODY', firstIssue(parsed.error));
  return parsed.data;
}

/** The query, validated by `schema` (INVALID_QUERY otherwise). Empty values count as absent. */
export function queryOf<T extends z.ZodType>(c: Context, schema: T): z.infer<T> {
  const query = Object.fromEntries(Object.entries(c.req.query()).filter(([, v]) => v !== ''));
  const parsed = schema.safeParse(query);
  if (!parsed.success) throw tusError('INVALID_QUERY', firstIssue(parsed.error));
  return parsed.data;
}

/** The files of the installed `swagger-ui-dist` that `/api/docs` loads (served from this server, never a CDN). */
const DOCS_ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

/** Where `swagger-ui-dist` is installed. */
export function swaggerUiDir(): string {
  return path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

/** The reference page: Swagger UI on `/api/openapi.json`, with no validator badge (it would call validator.swagger.io). */
const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>tus edge server API</title><link rel="stylesheet" href="/api/docs/swagger-ui.css"></head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#swagger-ui', validatorUrl: null, deepLinking: true });</script>
</body>
</html>
`;

/**
 * `GET /api/openapi.json` (OpenAPI 3.1 of every documented route) and `GET /api/docs` (the interactive
 * reference, Swagger UI), whose script and style are served from the installed npm package under
 * `/api/docs/` (read once, revalidated by ETag), so the page works with no internet and no request
 * leaves this server.
 */
export function mountApiDocs(app: ApiApp, version: string, assets: string = swaggerUiDir()): void {
  describedOnly(app, route({
    method: 'get', path: '/api/openapi.json', tags: ['docs'], summary: 'This document (OpenAPI 3.1)', security: [],
    responses: { 200: json(z.record(z.string(), z.unknown()), 'the OpenAPI 3.1 document of this server') },
  }));
  app.doc31('/api/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'tus edge server', version, description: 'Resumable uploads (tus 1.0 and the IETF draft), files, results and the processing pipeline.' },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'a user token (JWT, AUTH_MODE=jwt), an upload token, or the operator token; none with auth off' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, when set' },
      },
    },
    security: [{ bearer: [] }],
  } as Parameters<ApiApp['doc31']>[1]);
  app.get('/api/docs', (c) => c.html(DOCS_PAGE, 200, { 'Cache-Control': 'no-cache' }));
  const loaded = new Map<string, { body: Uint8Array; etag: string }>();
  app.get('/api/docs/:file', (c) => {
    const name = c.req.param('file');
    const type = DOCS_ASSETS[name];
    if (!type) return c.json({ error: { code: 'NOT_FOUND', message: 'no such file' } }, 404);
    let file = loaded.get(name);
    if (!file) {
      const body = fs.readFileSync(path.join(assets, name));
      file = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
      loaded.set(name, file);
    }
    const headers = { 'Content-Type': type, 'Cache-Control': 'no-cache', ETag: file.etag, 'X-Content-Type-Options': 'nosniff' };
    if (c.req.header('if-none-match') === file.etag) return new Response(null, { status: 304, headers });
    return new Response(file.body, { status: 200, headers: { ...headers, 'Content-Length': String(file.body.byteLength) } });
  });
}
