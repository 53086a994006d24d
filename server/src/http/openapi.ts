import { OpenAPIHono, z, type RouteConfig } from '@hono/zod-openapi';
import { Scalar } from '@scalar/hono-api-reference';
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

/** Documents `config` in the OpenAPI document and mounts `handler` at its method and path. */
export function documented(app: ApiApp, config: RouteConfig, handler: Handler): void {
  app.openAPIRegistry.registerPath(config);
  app.on(config.method.toUpperCase(), honoPath(config.path), handler);
}

/** Documents a route another module mounts itself (tus, the IETF draft, the operations endpoints). */
export function describedOnly(app: ApiApp, config: RouteConfig): void {
  app.openAPIRegistry.registerPath(config);
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

/** `GET /api/openapi.json` (OpenAPI 3.1 of every documented route) and `GET /api/docs` (interactive reference). */
export function mountApiDocs(app: ApiApp, version: string): void {
  app.doc31('/api/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'tus edge server', version, description: 'Resumable uploads (tus 1.0 and the IETF draft), files, results and the processing pipeline.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    security: [{ bearer: [] }],
  } as Parameters<ApiApp['doc31']>[1]);
  app.get('/api/docs', Scalar({ url: '/api/openapi.json', pageTitle: 'tus edge server API' }));
}
