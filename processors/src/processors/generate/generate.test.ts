/**
 * Generated content through the openai SDK against a local server that speaks its API: the exact
 * requests, the wait for the text, 429 / 5xx / 4xx handling with Retry-After, malformed and
 * schema-violating answers, chunking of long texts.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/config.js';
import type { RawEnv } from '../../config/config.js';
import { ProcessingError } from '../../errors.js';
import { FileResultStore } from '../../results/file.js';
import { MemoryStatusStore } from '../../status/memory.js';
import { testContext } from '@tus-edge/testkit';
import { chatAnswer, startFakeOpenAI, validStudyContent, type FakeOpenAI } from '@tus-edge/testkit';
import { makeEvent } from '@tus-edge/testkit';
import { tempDir } from '@tus-edge/testkit';
import type { ExtractedText } from '../text.js';
import { GenerateProcessor, type GeneratedContent } from './generate.js';
import { createOpenAI, retryAfterMs } from './openai.js';
import { PromptLibrary, render } from './prompts.js';
import { studySchema } from './schema.js';

let dir: string;
let fake: FakeOpenAI;
let store: FileResultStore;
beforeAll(async () => {
  dir = await tempDir();
  fake = await startFakeOpenAI();
  store = new FileResultStore(path.join(dir, 'results'));
});
afterAll(async () => {
  await fake?.close();
  await fs.rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  fake.requests.length = 0;
  fake.script('chat', (req) => chatAnswer(validStudyContent(req)));
});

const PDF_TEXT: ExtractedText = {
  version: 1, source: 'documents', format: 'pdf', unit: 'page', units: 2, chars: 40, truncated: false,
  segments: [{ ref: 1, text: 'Cells divide by mitosis.' }, { ref: 2, text: 'Chloroplasts make sugar.' }],
};

function generator(env: RawEnv = {}) {
  const config = parseConfig({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.baseURL, OPENAI_MODEL: 'gpt-test', OPENAI_MAX_RETRIES: '2', ...env }).openai;
  return new GenerateProcessor({ config, client: createOpenAI(config), retry: { baseDelayMs: 10 }, questions: 3 });
}

/** An upload whose documents job is done with `text` stored; returns the context to run with. */
async function prepared(text: ExtractedText | null = PDF_TEXT, upstream: { kind?: string; state?: 'done' | 'failed' | 'skipped' | 'processing'; mime?: string } = {}) {
  const event = makeEvent({ metadata: { filetype: 'application/pdf' } });
  const status = new MemoryStatusStore();
  const kind = upstream.kind ?? 'documents';
  await status.update({ uploadId: event.uploadId, eventId: event.eventId, kind, patch: { state: upstream.state ?? 'done', reason: upstream.state === 'failed' ? 'CORRUPT_FILE: not a readable PDF' : undefined } });
  if (text) await store.put(event.uploadId, 'text.json', Buffer.from(JSON.stringify(text)));
  const sniffed = upstream.mime ? { mime: upstream.mime, ext: null } : kind === 'video' ? { mime: 'video/mp4', ext: 'mp4' } : { mime: 'application/pdf', ext: 'pdf' };
  return { event, status, ctx: testContext(event, store, { sniffed, status }) };
}

const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as ProcessingError);

describe('GenerateProcessor', () => {
  it('sends one structured-output request as the SDK does, validates the answer and stores generated.json', async () => {
    const { event, ctx } = await prepared();
    const out = await generator().run(event, ctx);
    const [req] = fake.of('chat');
    expect(fake.of('chat')).toHaveLength(1);
    expect(req.method).toBe('POST');
    expect(req.headers.authorization).toBe('Bearer sk-test');
    expect(req.headers['content-type']).toBe('application/json');
    const templates = await PromptLibrary.load();
    expect(req.json).toEqual({
      model: 'gpt-test',
      messages: [
        { role: 'system', content: templates.resolve('system', 'system').body.trim() },
        {
          role: 'user',
          content: render(templates.resolve('study@1', 'study'), {
            source: 'text of a PDF document', source_short: 'document', marker_example: '[page 3]',
            reference_rule: 'the number is the page the passage comes from.',
            chapter_reference: 'its "page": the page number from the marker where the chapter begins',
            summary_words: 150, max_chapters: 8, questions: 3,
            text: '[page 1] Cells divide by mitosis.\n[page 2] Chloroplasts make sugar.',
          }),
        },
      ],
      response_format: { type: 'json_schema', json_schema: { name: 'study_content', strict: true, schema: studySchema('page') } },
    });
    const generated = JSON.parse((await ctx.results.read('generated.json'))!.toString()) as GeneratedContent;
    expect(generated).toMatchObject({
      version: 1, model: 'gpt-test', template: 'study@1', source: { kind: 'documents', format: 'pdf', unit: 'page' }, requests: 1, chunks: 1,
      summary: 'A short summary.', chapters: [{ title: 'Opening', page: 1 }], quiz: [{ answer: 0, choices: ['Tests', 'Cooking', 'Sailing'] }],
    });
    expect(out.result).toMatchObject({ model: 'gpt-test', summary: 'A short summary.', chapters: 1, questions: 1, files: [{ name: 'generated.json', contentType: 'application/json' }] });

    // Run again (a redelivery after a crash): the stored content is reused, no second request.
    await generator().run(event, ctx);
    expect(fake.of('chat')).toHaveLength(1);
  });

  it('waits for the text to exist: runs once the documents job is done', async () => {
    const { event, status, ctx } = await prepared(PDF_TEXT, { state: 'processing' });
    let settled = false;
    const running = generator().run(event, ctx).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 150));
    expect(settled).toBe(false);
    expect(fake.of('chat')).toHaveLength(0);
    await status.update({ uploadId: event.uploadId, eventId: event.eventId, kind: 'documents', patch: { state: 'done' } });
    await running;
    expect(fake.of('chat')).toHaveLength(1);
  });

  it('is skipped (not failed) without a key, or without text', async () => {
    const { event, ctx } = await prepared();
    expect(await failure(generator({ OPENAI_API_KEY: '' }).run(event, ctx))).toMatchObject({ code: 'NOT_APPLICABLE', message: 'OPENAI_API_KEY is not set' });
    const upstreamFailed = await prepared(null, { state: 'failed' });
    expect(await failure(generator().run(upstreamFailed.event, upstreamFailed.ctx))).toMatchObject({
      code: 'NOT_APPLICABLE', message: 'no text: documents failed (CORRUPT_FILE: not a readable PDF)',
    });
    const silentVideo = await prepared(null, { kind: 'video' });
    expect(await failure(generator().run(silentVideo.event, silentVideo.ctx))).toMatchObject({ code: 'NOT_APPLICABLE', message: 'no text: the video job stored no text.json' });
    expect(fake.of('chat')).toHaveLength(0);
  });

  it('429: waits as long as Retry-After says, then succeeds', async () => {
    fake.script('chat', (req, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' }, body: { error: { message: 'Rate limit reached' } } } : chatAnswer(validStudyContent(req))));
    const { event, ctx } = await prepared();
    await generator().run(event, ctx);
    const [first, second] = fake.of('chat');
    expect(fake.of('chat')).toHaveLength(2);
    expect(second.at - first.at).toBeGreaterThanOrEqual(950);
    expect(second.json).toEqual(first.json);
  });

  it('5xx: retried with backoff; when it persists, a retryable OPENAI_UNAVAILABLE after 1 + OPENAI_MAX_RETRIES requests', async () => {
    fake.script('chat', (req, n) => (n === 0 ? { status: 500, body: { error: { message: 'boom' } } } : chatAnswer(validStudyContent(req))));
    const a = await prepared();
    await generator().run(a.event, a.ctx);
    expect(fake.of('chat')).toHaveLength(2);

    fake.requests.length = 0;
    fake.script('chat', [{ status: 503, body: { error: { message: 'overloaded' } } }]);
    const b = await prepared();
    const err = await failure(generator().run(b.event, b.ctx));
    expect(err).toBeInstanceOf(ProcessingError);
    expect(err).toMatchObject({ code: 'OPENAI_UNAVAILABLE', retryable: true });
    expect(err.message).toMatch(/^chat completion \(study_content\): 503 overloaded after 3 attempts$/);
    expect(fake.of('chat')).toHaveLength(3);
    expect(await b.ctx.results.head('generated.json')).toBeNull();

    // A Retry-After longer than a minute is not waited out here: the job is retried later instead.
    fake.requests.length = 0;
    fake.script('chat', [{ status: 429, headers: { 'retry-after': '600' }, body: { error: { message: 'quota' } } }]);
    const c = await prepared();
    expect(await failure(generator().run(c.event, c.ctx))).toMatchObject({ code: 'OPENAI_UNAVAILABLE', message: expect.stringMatching(/Retry-After 600 s$/) });
    expect(fake.of('chat')).toHaveLength(1);
  });

  it('other 4xx: a permanent OPENAI_REJECTED after one request', async () => {
    fake.script('chat', [{ status: 400, body: { error: { message: "Invalid schema for response_format 'study_content'", type: 'invalid_request_error' } } }]);
    const { event, ctx } = await prepared();
    const err = await failure(generator().run(event, ctx));
    expect(err).toMatchObject({ code: 'OPENAI_REJECTED', retryable: false });
    expect(err.message).toMatch(/^chat completion \(study_content\): 400 Invalid schema for response_format/);
    expect(fake.of('chat')).toHaveLength(1);
  });

  it('a malformed answer (not JSON, cut off) is asked for again', async () => {
    fake.script('chat', (req, n) => (n === 0 ? chatAnswer('{"summary": "oops', { finish_reason: 'stop' }) : n === 1 ? chatAnswer('{"summary":"x"', { finish_reason: 'length' }) : chatAnswer(validStudyContent(req))));
    const { event, ctx } = await prepared();
    await generator().run(event, ctx);
    expect(fake.of('chat')).toHaveLength(3);
    expect(await ctx.results.head('generated.json')).not.toBeNull();
  });

  it.each([
    ['a missing property', { summary: 'S', chapters: [{ title: 'T', summary: 's', page: 1 }] }, /does not match the schema: \/ must have required property 'quiz'/],
    ['an extra property', { summary: 'S', chapters: [{ title: 'T', summary: 's', page: 1, extra: 1 }], quiz: [] }, /must NOT have additional properties/],
    ['a page beyond the document', { summary: 'S', chapters: [{ title: 'T', summary: 's', page: 9 }], quiz: [{ question: 'Q', choices: ['a', 'b'], answer: 0, explanation: 'e' }] }, /\/chapters\/0\/page 9 is beyond the source \(2\)/],
    ['an answer index outside the choices', { summary: 'S', chapters: [{ title: 'T', summary: 's', page: 1 }], quiz: [{ question: 'Q', choices: ['a', 'b'], answer: 2, explanation: 'e' }] }, /\/quiz\/0\/answer 2 is not an index of its 2 choices/],
  ])('an answer with %s is never stored: permanent INVALID_GENERATED_CONTENT after 3 answers', async (_, content, problem) => {
    fake.script('chat', [chatAnswer(content)]);
    const { event, ctx } = await prepared();
    const err = await failure(generator().run(event, ctx));
    expect(err).toMatchObject({ code: 'INVALID_GENERATED_CONTENT', retryable: false });
    expect(err.message).toMatch(problem);
    expect(err.message).toMatch(/\(after 3 answers\)$/);
    expect(fake.of('chat')).toHaveLength(3);
    expect(await ctx.results.head('generated.json')).toBeNull();
  });

  it('chunks a long text to the token budget, then combines the notes; video chapters carry timestamps', async () => {
    const segments = Array.from({ length: 40 }, (_, i) => ({ start: i * 15, end: i * 15 + 15, text: `Sentence number ${i} of the lecture. `.repeat(8) }));
    const transcript: ExtractedText = { version: 1, source: 'video', format: 'transcript', unit: 'time', durationSeconds: 600, segments, chars: 0, truncated: false };
    const { event, ctx } = await prepared(transcript, { kind: 'video' });
    const out = await generator({ OPENAI_MAX_INPUT_TOKENS: '1000' }).run(event, ctx);
    const requests = fake.of('chat');
    const names = requests.map((r) => (r.json!.response_format as { json_schema: { name: string } }).json_schema.name);
    const chunks = names.filter((n) => n === 'chunk_notes').length;
    expect(chunks).toBeGreaterThanOrEqual(3);
    expect(names).toEqual([...Array(chunks).fill('chunk_notes'), 'study_content']);
    for (const r of requests.slice(0, chunks)) {
      const user = (r.json!.messages as Array<{ content: string }>)[1].content;
      expect(Math.ceil(user.length / 4)).toBeLessThanOrEqual(1000 + 50);
      expect(user).toMatch(/\[time \d+s\] Sentence number/);
    }
    const last = (requests.at(-1)!.json!.messages as Array<{ content: string }>)[1].content;
    expect(last).toContain('Part 1:\nSummary: A short summary.\nChapters:\n- Opening (start 0s): How it starts.');
    expect(last).toContain(`Part ${chunks}:`);
    expect(out.result).toMatchObject({ requests: chunks + 1 });
    const generated = JSON.parse((await ctx.results.read('generated.json'))!.toString()) as GeneratedContent;
    expect(generated.chapters[0]).toEqual({ title: 'Opening', summary: 'How it starts.', start: 0 });
    expect(generated.chunks).toBe(chunks);
  });
});

describe('GenerateProcessor on a processing request', () => {
  it('uses the options: another template (recorded as name@version), language and level, questions, chapters, model', async () => {
    const { event: upload, status } = await prepared();
    const options = { template: 'quiz', language: 'de', readingLevel: 'child', questions: 4, chapters: 'coarse', model: 'gpt-other' };
    const event = { ...upload, eventId: 'process-1', request: { kinds: ['generate'], lane: 'normal' as const, options: { generate: options }, requestedAt: new Date().toISOString() } };
    const ctx = testContext(event, store, { sniffed: { mime: 'application/pdf', ext: 'pdf' }, status });
    const out = await generator().run(event, ctx);
    const [req] = fake.of('chat');
    const templates = await PromptLibrary.load();
    const style = render(templates.resolve('style', 'style'), { language: 'the language with the tag "de"', reading_level: 'children of about ten: short sentences, everyday words, every term explained' });
    expect(req.json).toMatchObject({
      model: 'gpt-other',
      messages: [
        { role: 'system', content: `${templates.resolve('system', 'system').body.trim()}\n${style.trim()}` },
        {
          role: 'user',
          content: render(templates.resolve('quiz@1', 'study'), {
            source: 'text of a PDF document', source_short: 'document', marker_example: '[page 3]',
            reference_rule: 'the number is the page the passage comes from.',
            chapter_reference: 'its "page": the page number from the marker where the chapter begins',
            summary_words: 150, max_chapters: 4, questions: 4,
            text: '[page 1] Cells divide by mitosis.\n[page 2] Chloroplasts make sugar.',
          }),
        },
      ],
    });
    const generated = JSON.parse((await ctx.results.read('generated.json'))!.toString()) as GeneratedContent;
    expect(generated).toMatchObject({ model: 'gpt-other', template: 'quiz@1', options: { ...options, template: 'quiz@1' } });
    expect(out.result).toMatchObject({ model: 'gpt-other', template: 'quiz@1', options: { questions: 4, chapters: 'coarse' } });
  });

  it('fails at once on a template that does not exist, or options its schema refuses', async () => {
    const { event: upload, status } = await prepared();
    const request = (generate: Record<string, unknown>) => ({ ...upload, eventId: `process-${Math.random()}`, request: { kinds: ['generate'], lane: 'normal' as const, options: { generate }, requestedAt: '' } });
    for (const [opts, code] of [[{ template: 'nosuch' }, 'PERMANENT'], [{ questions: 0 }, 'INVALID_EVENT'], [{ colour: 'red' }, 'INVALID_EVENT']] as const) {
      const event = request(opts);
      const err = await failure(generator().run(event, testContext(event, store, { sniffed: { mime: 'application/pdf', ext: 'pdf' }, status })));
      expect(err.code).toBe(code);
      expect(err.retryable).toBe(false);
    }
  });
});

describe('GenerateProcessor on an audio upload', () => {
  it('waits for the video job (which transcribes audio too) and calls the source a recording', async () => {
    const transcript: ExtractedText = {
      version: 1, source: 'video', format: 'transcript', unit: 'time', media: 'audio', durationSeconds: 30, chars: 20, truncated: false,
      segments: [{ start: 0, end: 30, text: 'Welcome to the show.' }],
    };
    const { event, ctx } = await prepared(transcript, { kind: 'video', mime: 'audio/mpeg' });
    expect(generator().accepts(event, { mime: 'audio/mpeg', ext: 'mp3' })).toBe(true);
    await generator().run(event, ctx);
    const user = (fake.of('chat')[0].json!.messages as Array<{ content: string }>)[1].content;
    const templates = await PromptLibrary.load();
    expect(user).toBe(render(templates.resolve('study', 'study'), {
      source: 'transcript of an audio recording', source_short: 'recording', marker_example: '[time 65s]',
      reference_rule: 'the number is the time in seconds where the passage starts.',
      chapter_reference: 'its "start" in seconds, taken from the marker where the chapter begins',
      summary_words: 150, max_chapters: 8, questions: 3,
      text: '[time 0s] Welcome to the show.',
    }));
  });
});

describe('Retry-After', () => {
  it('reads retry-after-ms, seconds and HTTP dates', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250' }), now)).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': '2' }), now)).toBe(2000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:03 GMT' }), now)).toBe(3000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }), now)).toBeNull();
    expect(retryAfterMs(new Headers(), now)).toBeNull();
  });
});
