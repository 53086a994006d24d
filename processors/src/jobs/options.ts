import { z } from 'zod';
import { ProcessingError } from '../errors.js';
import type { UploadCompletedEvent } from '../pipeline/event.js';

/** A prompt template reference: `name` (its latest version) or `name@version`. */
export const TEMPLATE_REF = /^[a-z][a-z0-9-]{0,40}(@[1-9]\d{0,3})?$/;

/**
 * Options of a processing request (`POST /api/files/:id/process`), per kind. Declared once: the
 * server validates request bodies and documents the route with these schemas, and the processors read
 * `event.request.options` with them. An option left out keeps the configured default.
 */
export const VideoOptionsSchema = z
  .object({
    renditions: z
      .array(z.number().int().min(72).max(2160).refine((h) => h % 2 === 0, 'a rendition height must be even'))
      .max(8)
      .optional()
      .describe('heights of the H.264 ladder in pixels (never above the source); [] for none; default VIDEO_RENDITIONS'),
    frames: z.number().int().min(0).max(20).optional().describe('preview frames besides the poster; default VIDEO_PREVIEW_FRAMES'),
  })
  .strict();

/** How many chapters a `chapters` granularity asks for at most. */
export const CHAPTER_LIMITS = { coarse: 4, normal: 8, fine: 16 } as const;
/** Audiences of the `readingLevel` option, as the style template words them. */
export const READING_LEVELS = {
  child: 'children of about ten: short sentences, everyday words, every term explained',
  general: 'a general audience without special knowledge of the subject',
  expert: 'experts of the subject: precise terms, no basics explained',
} as const;

export const GenerateOptionsSchema = z
  .object({
    language: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/, 'a language tag such as "de" or "pt-BR"').optional()
      .describe('language of the generated content (BCP 47 tag); default the language of the text'),
    readingLevel: z.enum(Object.keys(READING_LEVELS) as [keyof typeof READING_LEVELS]).optional().describe('audience of the generated content; default the level of the text'),
    questions: z.number().int().min(1).max(20).optional().describe('quiz questions; default 5'),
    chapters: z.enum(Object.keys(CHAPTER_LIMITS) as [keyof typeof CHAPTER_LIMITS]).optional().describe('chapter granularity: coarse (≤4), normal (≤8, default), fine (≤16)'),
    model: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'a model name').optional().describe('chat model (structured outputs needed); default OPENAI_MODEL'),
    template: z.string().regex(TEMPLATE_REF, 'a template name, or name@version').optional()
      .describe('prompt template of processors/prompts/ used as the study prompt: "quiz" (latest) or "quiz@1"; default "study"'),
  })
  .strict();

const NoOptions = z.object({}).strict();

/** Kinds a request may name, with their option schemas. */
export const KIND_OPTION_SCHEMAS = {
  fingerprint: NoOptions,
  video: VideoOptionsSchema,
  documents: NoOptions,
  generate: GenerateOptionsSchema,
} as const;
export type RequestKind = keyof typeof KIND_OPTION_SCHEMAS;
export const REQUEST_KINDS = Object.keys(KIND_OPTION_SCHEMAS) as RequestKind[];

/** `options` of a request: an object per kind. */
export const KindOptionsSchema = z
  .object(Object.fromEntries(REQUEST_KINDS.map((k) => [k, KIND_OPTION_SCHEMAS[k].optional()])) as { [K in RequestKind]: z.ZodOptional<(typeof KIND_OPTION_SCHEMAS)[K]> })
  .strict();

export type VideoOptions = z.infer<typeof VideoOptionsSchema>;
export type GenerateRequestOptions = z.infer<typeof GenerateOptionsSchema>;
export type KindOptions = z.infer<typeof KindOptionsSchema>;

/**
 * The options of `kind` in the event's request, validated by the kind's schema; `{}` for an upload's
 * own event. A request that slipped past the server's validation fails permanently (`INVALID_EVENT`).
 */
export function optionsOf<K extends RequestKind>(event: UploadCompletedEvent, kind: K): z.infer<(typeof KIND_OPTION_SCHEMAS)[K]> {
  const raw = (event.request?.options as Record<string, unknown> | undefined)?.[kind] ?? {};
  const parsed = KIND_OPTION_SCHEMAS[kind].safeParse(raw);
  if (!parsed.success) throw new ProcessingError('INVALID_EVENT', `options.${kind}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '/'} ${i.message}`).join('; ')}`);
  return parsed.data as z.infer<(typeof KIND_OPTION_SCHEMAS)[K]>;
}
