import type { ErrorObject, ValidateFunction } from 'ajv';
import { createRequire } from 'node:module';

/** How chapters point into the source: seconds into a video, or a page / slide / section number. */
export type Reference = 'time' | 'page';

export interface Chapter {
  title: string;
  summary: string;
  /** Video: seconds from the start. */
  start?: number;
  /** Document: page, slide or section number. */
  page?: number;
}

export interface QuizQuestion {
  question: string;
  choices: string[];
  /** Zero-based index of the correct choice. */
  answer: number;
  explanation: string;
}

export interface StudyContent {
  summary: string;
  chapters: Chapter[];
  quiz: QuizQuestion[];
}

export type ChunkNotes = Omit<StudyContent, 'quiz'>;

const text = { type: 'string' } as const;

function chapterSchema(reference: Reference) {
  const ref = reference === 'time'
    ? { start: { type: 'number', minimum: 0, description: 'seconds from the start of the video, from the passage markers' } }
    : { page: { type: 'integer', minimum: 1, description: 'number from the passage marker where the chapter starts' } };
  return {
    type: 'object',
    additionalProperties: false,
    required: ['title', 'summary', ...Object.keys(ref)],
    properties: { title: text, summary: text, ...ref },
  };
}

const quizSchema = {
  type: 'array',
  minItems: 1,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['question', 'choices', 'answer', 'explanation'],
    properties: {
      question: text,
      choices: { type: 'array', minItems: 2, maxItems: 6, items: text },
      answer: { type: 'integer', minimum: 0 },
      explanation: text,
    },
  },
} as const;

/**
 * The JSON schemas sent as `response_format: json_schema` (strict: every property required, no extra
 * properties) and used to validate the answers. Only keywords structured outputs accept.
 */
export function studySchema(reference: Reference) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['summary', 'chapters', 'quiz'],
    properties: { summary: text, chapters: { type: 'array', minItems: 1, items: chapterSchema(reference) }, quiz: quizSchema },
  };
}

export function notesSchema(reference: Reference) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['summary', 'chapters'],
    properties: { summary: text, chapters: { type: 'array', minItems: 1, items: chapterSchema(reference) } },
  };
}

/** Limits the schema cannot say: references inside the source, answer index inside the choices, no blanks. */
export interface Bounds {
  reference: Reference;
  /** Video duration in seconds (chapters must start before it), or the number of pages / slides / sections. */
  max: number;
}

// ajv is loaded on the first answer to check, not by every process that imports the runtime.
const require = createRequire(import.meta.url);
let ajv: import('ajv').Ajv | undefined;
const compiled = new Map<string, ValidateFunction>();

function compile(name: string, schema: object): ValidateFunction {
  let fn = compiled.get(name);
  if (!fn) {
    ajv ??= new (require('ajv') as typeof import('ajv')).Ajv({ allErrors: true, strict: true });
    fn = ajv.compile(schema);
    compiled.set(name, fn);
  }
  return fn;
}

const describe = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`).join('; ');

/**
 * Checks a parsed answer against its schema and {@link Bounds}; returns the problems (empty when valid).
 * `kind` is `study` (summary, chapters, quiz) or `notes` (summary, chapters).
 */
export function validateAnswer(kind: 'study' | 'notes', value: unknown, bounds: Bounds): string[] {
  const schema = kind === 'study' ? studySchema(bounds.reference) : notesSchema(bounds.reference);
  const validate = compile(`${kind}:${bounds.reference}`, schema);
  if (!validate(value)) return [`does not match the schema: ${describe(validate.errors)}`];
  const v = value as StudyContent;
  const problems: string[] = [];
  if (!v.summary.trim()) problems.push('/summary is empty');
  v.chapters.forEach((c, i) => {
    if (!c.title.trim()) problems.push(`/chapters/${i}/title is empty`);
    const at = bounds.reference === 'time' ? c.start! : c.page!;
    // A little slack for timestamps: segment ends are rounded.
    if (bounds.reference === 'time' ? at > bounds.max + 1 : at > bounds.max) {
      problems.push(`/chapters/${i}/${bounds.reference === 'time' ? 'start' : 'page'} ${at} is beyond the source (${bounds.max})`);
    }
  });
  (v.quiz ?? []).forEach((q, i) => {
    if (q.answer >= q.choices.length) problems.push(`/quiz/${i}/answer ${q.answer} is not an index of its ${q.choices.length} choices`);
    if (!q.question.trim()) problems.push(`/quiz/${i}/question is empty`);
  });
  return problems;
}
