/**
 * Checks real responses against `/api/openapi.json`: the path and method are documented, the status is
 * one of the operation's responses, its `required` headers are there, the content type is a
 * documented one, and a JSON body validates against the documented schema (ajv, JSON Schema 2020-12,
 * which OpenAPI 3.1 schemas are). The API tests call it where they already fetch, so "every
 * documented response is what the route returns" is checked on the answers the tests look at.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { HttpReply } from '@tus-edge/testkit';

// ajv-formats is CommonJS with a default export: under NodeNext its namespace is what `import` gives.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

interface MediaType {
  schema?: unknown;
}
interface HeaderObject {
  required?: boolean;
}
interface ResponseObject {
  description?: string;
  headers?: Record<string, HeaderObject>;
  content?: Record<string, MediaType>;
}
interface Operation {
  tags?: string[];
  responses: Record<string, ResponseObject>;
}
/** The parts of an OpenAPI 3.1 document the checks read. */
export interface ApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components?: Record<string, unknown>;
}

/** What a check needs of a response: its status, headers, and its body as text (read only for JSON). */
export interface Answer {
  status: number;
  headers: Headers;
  text(): Promise<string>;
}

const DOC_ID = 'urn:tus-edge:openapi';
const escape = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');
const isJson = (type: string) => type === 'application/json' || type.endsWith('+json');

/** Validates answers against one document. */
export class DocumentedApi {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly templates: Array<{ template: string; pattern: RegExp }>;

  constructor(readonly doc: ApiDocument) {
    addFormats(this.ajv);
    this.ajv.addSchema(doc as object, DOC_ID);
    this.templates = Object.keys(doc.paths).map((template) => ({
      template,
      pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`),
    }));
  }

  /** The documented path template a concrete path falls under (`/api/files/abc` → `/api/files/{id}`). */
  templateOf(pathname: string): string | undefined {
    // The tus collection is mounted with and without a trailing slash (`/files/` is `/files`).
    const path = pathname.length > 1 ? pathname.replace(/\/$/, '') : pathname;
    if (this.doc.paths[path]) return path;
    return this.templates.find((t) => t.pattern.test(path))?.template;
  }

  /** Whether `method` on `path` (a template or a concrete path) is a documented operation. */
  documents(method: string, path: string): boolean {
    const template = this.templateOf(path);
    return template !== undefined && this.doc.paths[template]?.[method.toLowerCase()] !== undefined;
  }

  /**
   * Throws (with what differs) unless `answer` is a documented answer of `method` on `path`
   * (a template such as `/api/files/{id}` or a concrete path).
   */
  async check(method: string, path: string, answer: Answer): Promise<void> {
    const m = method.toLowerCase();
    const label = `${method.toUpperCase()} ${path} → ${answer.status}`;
    const template = this.templateOf(path);
    const operation = template ? this.doc.paths[template]?.[m] : undefined;
    if (!template || !operation) throw new Error(`${label}: not in the OpenAPI document`);
    const status = String(answer.status);
    const response = operation.responses[status] ?? operation.responses[`${status[0]}XX`] ?? operation.responses.default;
    if (!response) throw new Error(`${label}: status not documented (documented: ${Object.keys(operation.responses).join(', ')})`);
    for (const [name, header] of Object.entries(response.headers ?? {})) {
      if (header.required && !answer.headers.has(name)) throw new Error(`${label}: required header ${name} missing`);
    }
    if (!response.content || Object.keys(response.content).length === 0 || m === 'head' || answer.status === 204 || answer.status === 304) return;
    const type = (answer.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    const key = Object.keys(response.content).find((k) => k === type || k === '*/*' || (k.endsWith('/*') && type.startsWith(k.slice(0, -1))));
    if (!key) throw new Error(`${label}: Content-Type ${type || '(none)'} not documented (documented: ${Object.keys(response.content).join(', ')})`);
    // A body documented by a wildcard (a download of any type) is bytes: only a JSON media type documents JSON.
    if (!isJson(key) || response.content[key]?.schema === undefined) return;
    const text = await answer.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`${label}: body is not JSON: ${text.slice(0, 200)}`);
    }
    const pointer = ['paths', template, m, 'responses', operation.responses[status] ? status : `${status[0]}XX`, 'content', key, 'schema'].map(escape).join('/');
    let validate = this.compiled.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${DOC_ID}#/${pointer}` });
      this.compiled.set(pointer, validate);
    }
    if (!validate(body)) {
      throw new Error(`${label}: body does not match the documented schema: ${this.ajv.errorsText(validate.errors)}\n${text.slice(0, 500)}`);
    }
  }

  /** {@link check} on a fetch `Response` (its body stays unread for the caller: JSON is read from a clone). */
  async checkResponse(method: string, res: Response, path = new URL(res.url).pathname): Promise<Response> {
    await this.check(method, path, { status: res.status, headers: res.headers, text: () => res.clone().text() });
    return res;
  }

  /** {@link check} on a testkit `httpRequest` reply. */
  async checkReply(method: string, url: string, reply: HttpReply): Promise<HttpReply> {
    const headers = new Headers();
    for (const [k, v] of Object.entries(reply.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    await this.check(method, new URL(url).pathname, { status: reply.status, headers, text: async () => reply.body.toString('utf8') });
    return reply;
  }

  /** `fetch`, then {@link checkResponse}. */
  async fetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    return this.checkResponse(init.method ?? 'GET', await fetch(input, init));
  }
}

/** The document a running server serves at `/api/openapi.json`. */
export async function documentedApi(baseUrl: string): Promise<DocumentedApi> {
  const res = await fetch(`${baseUrl}/api/openapi.json`);
  if (res.status !== 200) throw new Error(`GET /api/openapi.json → ${res.status}`);
  return new DocumentedApi((await res.json()) as ApiDocument);
}
