import type OpenAI from 'openai';
import type { OpenAIConfig } from '../../config/config.js';
import { notApplicable, ProcessingError } from '../../errors.js';
import type { UploadCompletedEvent } from '../../pipeline/event.js';
import { acceptsClass, contentClass, DOCUMENT_CLASSES, type MediaClass, TIMED_MEDIA_CLASSES } from '../media-types.js';
import { TEXT_JSON, type ExtractedText } from '../text.js';
import type { Processor, ProcessorContext, ProcessorResult, SniffedType } from '../types.js';
import { chunkText, estimateTokens } from './chunk.js';
import { describeApiError, withRetries, type RetryOptions } from './openai.js';
import { PromptLibrary, render, type PromptTemplate } from './prompts.js';
import { CHAPTER_LIMITS, optionsOf, READING_LEVELS, type GenerateRequestOptions } from '../../jobs/options.js';
import { notesSchema, studySchema, validateAnswer, type Bounds, type ChunkNotes, type StudyContent } from './schema.js';

export const GENERATED_JSON = 'generated.json';
/** An answer that is not JSON or breaks the schema is asked for again, this many times in all. */
export const ANSWER_TRIES = 3;
const GENERATE_CLASSES: ReadonlySet<MediaClass> = new Set<MediaClass>([...TIMED_MEDIA_CLASSES, ...DOCUMENT_CLASSES]);

/** What `generated.json` holds. */
export interface GeneratedContent extends StudyContent {
  version: 1;
  model: string;
  /** The study prompt template used, `name@version` (absent in content generated before templates were versioned). */
  template?: string;
  /** What the run was asked for: the request's options with the defaults filled in. */
  options?: GenerateSettings;

  source: { kind: ExtractedText['source']; format: ExtractedText['format']; unit: ExtractedText['unit'] };
  /** Requests made: 1, or one per chunk plus one to combine. */
  requests: number;
  chunks: number;
  createdAt: string;
}

export interface GenerateOptions {
  config: OpenAIConfig;
  /** The SDK client; null without an API key (every job is then skipped). */
  client: OpenAI | null;
  /** Prompt templates (default: read from `processors/prompts/` on first use). */
  templates?: PromptLibrary;
  /** Backoff of {@link withRetries} (tests shorten it). */
  retry?: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs' | 'maxRetryAfterMs' | 'guard'>;
  /** Quiz questions asked for (default 5). */
  questions?: number;
}

/**
 * Generated study content: a summary, chapters (timestamps for a video, page / slide / section numbers
 * for a document) and quiz questions, through chat completions with structured output; every answer is
 * validated against its JSON schema (and the source's bounds) before `generated.json` is stored.
 *
 * Sequencing: a job of its own that runs after the text exists. It waits (`ctx.waitFor`, driven by
 * status notifications) until the `video` or `documents` job of the same upload is terminal, then reads
 * their `text.json` from the result store. Texts over `OPENAI_MAX_INPUT_TOKENS` are summarised chunk by
 * chunk, then combined. Without `OPENAI_API_KEY`, or without text, the job is `skipped`.
 */
export class GenerateProcessor implements Processor {
  readonly kind = 'generate';
  readonly wantsType = true;
  readonly services = ['openai'] as const;

  ownsResult(name: string): boolean {
    return name === GENERATED_JSON;
  }
  private templates: Promise<PromptLibrary> | null;

  constructor(private readonly options: GenerateOptions) {
    this.templates = options.templates ? Promise.resolve(options.templates) : null;
  }

  accepts(event: UploadCompletedEvent, sniffed?: SniffedType): boolean {
    return acceptsClass(event, sniffed, GENERATE_CLASSES);
  }

  async run(event: UploadCompletedEvent, ctx: ProcessorContext): Promise<ProcessorResult> {
    const client = this.options.client;
    if (!client) throw notApplicable('OPENAI_API_KEY is not set');
    const cls = ctx.sniffed ? contentClass(event, ctx.sniffed) : undefined;
    const upstream = cls && TIMED_MEDIA_CLASSES.has(cls) ? ['video'] : cls && DOCUMENT_CLASSES.has(cls) ? ['documents'] : ['video', 'documents'];
    const jobs = await ctx.waitFor(upstream);
    const done = upstream.find((k) => jobs[k].state === 'done');
    if (!done) {
      throw notApplicable(`no text: ${upstream.map((k) => `${k} ${jobs[k].state}${jobs[k].reason ? ` (${jobs[k].reason})` : ''}`).join(', ')}`);
    }
    const settings = this.settingsOf(event);
    // A stored generated.json is this run's: a request's run moved the earlier one into a version first.
    const existing = await ctx.results.read(GENERATED_JSON);
    if (existing) return this.resultOf(JSON.parse(existing.toString('utf8')) as GeneratedContent, ctx, true);
    const raw = await ctx.results.read(TEXT_JSON);
    if (!raw) throw notApplicable(`no text: the ${done} job stored no ${TEXT_JSON}`);
    const text = JSON.parse(raw.toString('utf8')) as ExtractedText;
    if (text.segments.every((s) => !s.text.trim())) throw notApplicable(`no text: the ${done} job found none`);

    const generated = await this.generate(text, client, ctx, settings);
    await ctx.results.put(GENERATED_JSON, Buffer.from(JSON.stringify(generated, null, 1)));
    return this.resultOf(generated, ctx, false);
  }

  private async resultOf(generated: GeneratedContent, ctx: ProcessorContext, reused: boolean): Promise<ProcessorResult> {
    const file = (await ctx.results.head(GENERATED_JSON))!;
    return {
      result: {
        model: generated.model,
        ...(generated.template && { template: generated.template }),
        ...(generated.options && { options: generated.options }),
        summary: generated.summary.length > 500 ? `${generated.summary.slice(0, 497)}...` : generated.summary,
        chapters: generated.chapters.length,
        questions: generated.quiz.length,
        requests: generated.requests,
        ...(reused ? { reused: true } : {}),
        files: [file],
      },
      outputLocation: ctx.results.location(),
      outputSizeBytes: file.size,
    };
  }

  /** The request's options (jobs/options.ts) with the configured defaults filled in. */
  settingsOf(event: UploadCompletedEvent): GenerateSettings {
    const o: GenerateRequestOptions = optionsOf(event, 'generate');
    return {
      model: o.model ?? this.options.config.model,
      template: o.template ?? 'study',
      questions: o.questions ?? this.options.questions ?? 5,
      chapters: o.chapters ?? 'normal',
      ...(o.language && { language: o.language }),
      ...(o.readingLevel && { readingLevel: o.readingLevel }),
    };
  }

  private async generate(text: ExtractedText, client: OpenAI, ctx: ProcessorContext, settings: GenerateSettings): Promise<GeneratedContent> {
    const templates = await (this.templates ??= PromptLibrary.load());
    const study = this.template(templates, settings.template, 'study');
    const combine = this.template(templates, study.combine ?? 'combine', 'combine');
    const chunkTemplate = this.template(templates, 'chunk', 'chunk');
    const reference = text.unit === 'time' ? 'time' : 'page';
    const bounds: Bounds = { reference, max: text.unit === 'time' ? (text.durationSeconds ?? Infinity) : (text.units ?? Infinity) };
    let system = render(this.template(templates, 'system', 'system'), {}).trim();
    if (settings.language || settings.readingLevel) {
      const style = render(this.template(templates, 'style', 'style'), {
        language: settings.language ? `the language with the tag "${settings.language}"` : 'the language of the text',
        reading_level: settings.readingLevel ? READING_LEVELS[settings.readingLevel] : 'the readers the text itself addresses',
      });
      system = `${system}\n${style.trim()}`;
    }
    const vars = promptVars(text, settings.questions, CHAPTER_LIMITS[settings.chapters]);
    // The budget is for the text: what the templates add is taken off first.
    const overhead = estimateTokens(system) + estimateTokens(render(study, { ...vars, text: '' }));
    const chunks = chunkText(text, Math.max(100, this.options.config.maxInputTokens - overhead));
    const ask = <T>(name: string, kind: 'study' | 'notes', user: string) =>
      this.ask<T>(client, ctx, settings.model, name, kind, kind === 'study' ? studySchema(reference) : notesSchema(reference), system, user, bounds);

    let content: StudyContent;
    if (chunks.length === 1) {
      ctx.progress(0.1);
      content = await ask<StudyContent>('study_content', 'study', render(study, { ...vars, text: chunks[0] }));
    } else {
      const notes: ChunkNotes[] = [];
      for (const [i, chunk] of chunks.entries()) {
        notes.push(await ask<ChunkNotes>('chunk_notes', 'notes', render(chunkTemplate, { ...vars, part: i + 1, parts: chunks.length, text: chunk })));
        ctx.progress((i + 1) / (chunks.length + 1));
      }
      const joined = notes
        .map((n, i) => `Part ${i + 1}:\nSummary: ${n.summary}\nChapters:\n${n.chapters.map((c) => `- ${c.title} (${reference === 'time' ? `start ${c.start}s` : `${text.unit} ${c.page}`}): ${c.summary}`).join('\n')}`)
        .join('\n\n');
      content = await ask<StudyContent>('study_content', 'study', render(combine, { ...vars, parts: chunks.length, text: joined }));
    }
    return {
      version: 1,
      model: settings.model,
      template: study.ref,
      options: { ...settings, template: study.ref },
      source: { kind: text.source, format: text.format, unit: text.unit },
      summary: content.summary,
      chapters: content.chapters,
      quiz: content.quiz,
      requests: chunks.length === 1 ? 1 : chunks.length + 1,
      chunks: chunks.length,
      createdAt: new Date().toISOString(),
    };
  }

  /**
   * One structured-output request: transport errors are retried by {@link withRetries}; an answer that
   * is not JSON, was cut off, or breaks the schema is asked for again up to {@link ANSWER_TRIES} times,
   * then the job fails permanently with `INVALID_GENERATED_CONTENT` and the last problem.
   */
  /** The template `ref` names, used as `use`; a request naming one that does not exist fails at once. */
  private template(templates: PromptLibrary, ref: string, use: Parameters<PromptLibrary['resolve']>[1]): PromptTemplate {
    const found = templates.find(ref, use);
    if (!found) throw new ProcessingError('PERMANENT', `no ${use} prompt template "${ref}" in processors/prompts/`);
    return found;
  }

  private async ask<T>(client: OpenAI, ctx: ProcessorContext, model: string, name: string, kind: 'study' | 'notes', schema: object, system: string, user: string, bounds: Bounds): Promise<T> {
    let problem = '';
    for (let attempt = 1; attempt <= ANSWER_TRIES; attempt++) {
      const completion = await withRetries(
        `chat completion (${name})`,
        (signal) =>
          client.chat.completions.create(
            {
              model,
              messages: [
                { role: 'system', content: system },
                { role: 'user', content: user },
              ],
              response_format: { type: 'json_schema', json_schema: { name, strict: true, schema: schema as Record<string, unknown> } },
            },
            { signal },
          ),
        { maxRetries: this.options.config.maxRetries, signal: ctx.signal, logger: ctx.logger, ...this.options.retry },
      );
      ctx.working();
      if (completion?.usage) {
        ctx.tokensUsed?.({ prompt: completion.usage.prompt_tokens ?? 0, completion: completion.usage.completion_tokens ?? 0, model: completion.model || this.options.config.model });
      }
      problem = answerProblem(completion, kind, bounds);
      if (!problem) return JSON.parse(completion.choices[0].message.content!) as T;
      ctx.logger.warn('generated content rejected; asking again', { name, attempt, problem });
    }
    throw new ProcessingError('INVALID_GENERATED_CONTENT', `${name}: ${problem} (after ${ANSWER_TRIES} answers)`);
  }
}

/** What is wrong with a completion, or '' when its content is valid. */
function answerProblem(completion: OpenAI.Chat.Completions.ChatCompletion, kind: 'study' | 'notes', bounds: Bounds): string {
  const choice = completion?.choices?.[0];
  if (!choice?.message) return 'the answer has no message';
  if (choice.message.refusal) return `the model refused: ${String(choice.message.refusal).slice(0, 200)}`;
  if (choice.finish_reason === 'length') return 'the answer was cut off (finish_reason length)';
  const content = choice.message.content;
  if (typeof content !== 'string' || !content.trim()) return 'the answer is empty';
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch (err) {
    return `the answer is not JSON (${describeApiError(err)})`;
  }
  return validateAnswer(kind, value, bounds).join('; ');
}

/** What a generation ran with: the request's options, defaults filled in. */
export interface GenerateSettings {
  model: string;
  /** The study template asked for (`study`, `quiz`, `quiz@1`); the content records the version used. */
  template: string;
  questions: number;
  chapters: keyof typeof CHAPTER_LIMITS;
  language?: string;
  readingLevel?: keyof typeof READING_LEVELS;
}

function promptVars(text: ExtractedText, questions: number, maxChapters: number): Record<string, string | number> {
  const video = text.unit === 'time';
  const unit = text.unit;
  return {
    source: video ? `transcript of ${text.media === 'audio' ? 'an audio recording' : 'a video'}` : `text of a ${text.format.toUpperCase()} document`,
    source_short: video ? (text.media === 'audio' ? 'recording' : 'video') : 'document',
    marker_example: video ? '[time 65s]' : `[${unit} 3]`,
    reference_rule: video
      ? 'the number is the time in seconds where the passage starts.'
      : `the number is the ${unit} the passage comes from.`,
    chapter_reference: video ? 'its "start" in seconds, taken from the marker where the chapter begins' : `its "page": the ${unit} number from the marker where the chapter begins`,
    summary_words: 150,
    max_chapters: maxChapters,
    questions,
  };
}
