/**
 * A local HTTP server that speaks the two OpenAI endpoints the processors use, for tests:
 * `POST /v1/chat/completions` (JSON) and `POST /v1/audio/transcriptions` (multipart). Every request is
 * recorded (headers, JSON body or form fields, uploaded file size); answers come from a script per
 * endpoint (one entry per request, the last one repeating), or a default that builds a valid answer.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Chat: the parsed JSON body. */
  json?: Record<string, unknown>;
  /** Transcription: the text fields of the form. */
  fields?: Record<string, string[]>;
  /** Transcription: the uploaded file's name, type and size. */
  file?: { name: string; type: string; size: number };
  at: number;
}

/** One scripted answer: status, headers and a body (an object is sent as JSON, a string as is). */
export interface FakeAnswer {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export type Answerer = (req: RecordedRequest, n: number) => FakeAnswer;

export interface FakeOpenAI {
  /** `http://127.0.0.1:<port>/v1`, for `OPENAI_BASE_URL`. */
  baseURL: string;
  requests: RecordedRequest[];
  /** Requests to one endpoint (`chat` or `transcriptions`). */
  of(endpoint: 'chat' | 'transcriptions'): RecordedRequest[];
  /** Replaces the answers of an endpoint: entries are used in turn, the last one repeats; a function decides per request. */
  script(endpoint: 'chat' | 'transcriptions', answers: FakeAnswer[] | Answerer): void;
  close(): Promise<void>;
}

/** A chat completion whose message content is `content` (a string, or an object sent as JSON text). */
export function chatAnswer(content: unknown, extra: { finish_reason?: string; refusal?: string } = {}): FakeAnswer {
  return {
    body: {
      id: 'chatcmpl-test',
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: 'fake-model',
      choices: [{
        index: 0,
        finish_reason: extra.finish_reason ?? 'stop',
        message: { role: 'assistant', content: typeof content === 'string' ? content : JSON.stringify(content), refusal: extra.refusal ?? null },
      }],
      usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
    },
  };
}

/** A valid study-content answer for a request (chapters at the first reference the prompt shows). */
export function validStudyContent(req: RecordedRequest): unknown {
  const schema = ((req.json?.response_format as { json_schema?: { name?: string; schema?: { properties?: { chapters?: { items?: { properties?: Record<string, unknown> } } } } } })?.json_schema);
  const time = !!schema?.schema?.properties?.chapters?.items?.properties?.start;
  const chapter = time ? { title: 'Opening', summary: 'How it starts.', start: 0 } : { title: 'Opening', summary: 'How it starts.', page: 1 };
  const notes = { summary: 'A short summary.', chapters: [chapter] };
  if (schema?.name === 'chunk_notes') return notes;
  return { ...notes, quiz: [{ question: 'What is it about?', choices: ['Tests', 'Cooking', 'Sailing'], answer: 0, explanation: 'It is a test.' }] };
}

/** A `verbose_json` transcription with two segments over `seconds`. */
export function transcriptionAnswer(text = 'hello from the test tone', seconds = 2): FakeAnswer {
  return {
    body: {
      task: 'transcribe', language: 'english', duration: seconds, text,
      segments: [
        { id: 0, seek: 0, start: 0, end: seconds / 2, text: `${text} (first half)`, tokens: [], temperature: 0, avg_logprob: 0, compression_ratio: 1, no_speech_prob: 0 },
        { id: 1, seek: 0, start: seconds / 2, end: seconds, text: `${text} (second half)`, tokens: [], temperature: 0, avg_logprob: 0, compression_ratio: 1, no_speech_prob: 0 },
      ],
    },
  };
}

/** Starts the fake on 127.0.0.1 (random port). */
export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const requests: RecordedRequest[] = [];
  const scripts: Record<'chat' | 'transcriptions', FakeAnswer[] | Answerer> = {
    chat: (req) => chatAnswer(validStudyContent(req)),
    transcriptions: () => transcriptionAnswer(),
  };
  const counts = { chat: 0, transcriptions: 0 };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://x');
    const endpoint = url.pathname === '/v1/chat/completions' ? 'chat' : url.pathname === '/v1/audio/transcriptions' ? 'transcriptions' : null;
    const record: RecordedRequest = { method: req.method ?? '', path: url.pathname, headers: req.headers, at: Date.now() };
    try {
      if (endpoint === 'chat') record.json = JSON.parse(body.toString('utf8'));
      if (endpoint === 'transcriptions') {
        const form = await new Request('http://x', { method: 'POST', body, headers: { 'content-type': req.headers['content-type'] ?? '' } }).formData();
        record.fields = {};
        for (const [key, value] of form.entries()) {
          if (typeof value === 'string') (record.fields[key] ??= []).push(value);
          else record.file = { name: value.name, type: value.type, size: value.size };
        }
      }
    } catch (err) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `unreadable request: ${(err as Error).message}` } }));
      return;
    }
    requests.push(record);
    if (!endpoint || req.method !== 'POST') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'no such endpoint', type: 'invalid_request_error' } }));
      return;
    }
    const n = counts[endpoint]++;
    const script = scripts[endpoint];
    const answer = typeof script === 'function' ? script(record, n) : script[Math.min(n, script.length - 1)];
    const payload = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {});
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers }).end(payload);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    of: (endpoint) => requests.filter((r) => r.path === (endpoint === 'chat' ? '/v1/chat/completions' : '/v1/audio/transcriptions')),
    script: (endpoint, answers) => {
      scripts[endpoint] = answers;
      counts[endpoint] = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
