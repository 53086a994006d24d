import type { DocumentsConfig } from '../../config/config.js';
import { notApplicable, ProcessingError } from '../../errors.js';
import type { UploadCompletedEvent } from '../../pipeline/event.js';
import type { UploadAccess } from '../../storage/access.js';
import { acceptsClass, contentClass, declaredClass, DOCUMENT_CLASSES, type MediaClass } from '../media-types.js';
import { plainText, TEXT_JSON, TEXT_TXT, TextCollector, type ExtractedText } from '../text.js';
import type { Processor, ProcessorContext, ProcessorResult, SniffedType } from '../types.js';
import { extractDocx } from './docx.js';
import { extractPdf } from './pdf.js';
import { extractPlain } from './plain.js';
import { extractPptx } from './pptx.js';
import { ZipError, ZipReader } from './zip.js';

/** Inline status result of a documents job. */
export interface DocumentsResult {
  format: ExtractedText['format'];
  /** PDF pages, PPTX slides, or DOCX/text sections. */
  units: number;
  unit: ExtractedText['unit'];
  metadata: Record<string, string>;
  chars: number;
  truncated: boolean;
  files: Array<{ name: string; contentType: string; size: number }>;
}

/**
 * Documents: PDF (text per page, page count, document information; read in ranges), DOCX (mammoth),
 * PPTX (slide text), plain text and Markdown (streamed). Writes `text.json` ({@link ExtractedText}) and
 * `text.txt`. The type comes from the content (`wantsType`); a file declared as a document whose content
 * is something else fails as `MISLABELLED`, a document that cannot be parsed as `CORRUPT_FILE`.
 */
export class DocumentsProcessor implements Processor {
  readonly kind = 'documents';
  readonly wantsType = true;

  ownsResult(name: string): boolean {
    return name === TEXT_JSON || name === TEXT_TXT;
  }

  constructor(
    private readonly config: DocumentsConfig,
    private readonly access: UploadAccess,
  ) {}

  accepts(event: UploadCompletedEvent, sniffed?: SniffedType): boolean {
    return acceptsClass(event, sniffed, DOCUMENT_CLASSES);
  }

  async run(event: UploadCompletedEvent, ctx: ProcessorContext): Promise<ProcessorResult> {
    const cls = ctx.sniffed ? contentClass(event, ctx.sniffed) : declaredClass(event)?.cls;
    if (!cls || !DOCUMENT_CLASSES.has(cls)) {
      const declared = declaredClass(event);
      if (declared && DOCUMENT_CLASSES.has(declared.cls) && ctx.sniffed) {
        throw new ProcessingError('MISLABELLED', `declared ${declared.declared}, but the content is ${ctx.sniffed.mime}`);
      }
      throw notApplicable(`not a document (${ctx.sniffed?.mime ?? 'unknown type'})`);
    }
    const collect = new TextCollector(this.config.maxTextBytes);
    const { format, unit, units, metadata } = await this.extract(cls, event, ctx, collect);
    const extracted: ExtractedText = {
      version: 1, source: 'documents', format, unit, segments: collect.segments, chars: collect.chars, truncated: collect.truncated, units,
    };
    const files = [
      await ctx.results.put(TEXT_JSON, Buffer.from(JSON.stringify(extracted))),
      await ctx.results.put(TEXT_TXT, Buffer.from(plainText(extracted))),
    ];
    const result: DocumentsResult = { format, units, unit, metadata, chars: extracted.chars, truncated: extracted.truncated, files };
    // Custom counters of the job history: pages (slides, sections) and characters extracted.
    ctx.metric?.(`${unit}s`, units);
    ctx.metric?.('chars', extracted.chars);
    return { result: { ...result }, outputLocation: ctx.results.location(), outputSizeBytes: files.reduce((n, f) => n + f.size, 0) };
  }

  private async extract(cls: MediaClass, event: UploadCompletedEvent, ctx: ProcessorContext, collect: TextCollector) {
    if (cls === 'pdf') {
      const source = await this.access.openRandomAccess(event.location, ctx.signal);
      try {
        const pdf = await extractPdf(source, collect, ctx.signal, (done, total) => ctx.progress(done / total));
        return { format: 'pdf', unit: 'page', units: pdf.pages, metadata: pdf.metadata } as const;
      } finally {
        await source.close();
      }
    }
    if (cls === 'text' || cls === 'markdown') {
      const plain = await extractPlain(await ctx.openStream(event.location), cls === 'markdown', collect, this.config.maxTextBytes);
      const metadata: Record<string, string> = plain.title ? { title: plain.title } : {};
      return { format: cls, unit: 'section', units: plain.sections, metadata } as const;
    }
    // DOCX and PPTX are zip packages, read whole (up to MAX_DOCUMENT_BYTES); entries are inflated with a cap.
    if (event.size > this.config.maxBytes) {
      throw new ProcessingError('TOO_LARGE', `the ${cls.toUpperCase()} is ${event.size} bytes, more than MAX_DOCUMENT_BYTES (${this.config.maxBytes})`);
    }
    const buffer = await readAll(await ctx.openStream(event.location), this.config.maxBytes);
    try {
      const zip = new ZipReader(buffer);
      if (cls === 'docx') {
        const docx = await extractDocx(buffer, zip, collect);
        return { format: 'docx', unit: 'section', units: docx.sections, metadata: docx.metadata } as const;
      }
      const pptx = await extractPptx(zip, collect, async (done, total) => {
        ctx.progress(done / total);
        ctx.signal.throwIfAborted();
      });
      return { format: 'pptx', unit: 'slide', units: pptx.slides, metadata: pptx.metadata } as const;
    } catch (err) {
      if (err instanceof ZipError) throw new ProcessingError('CORRUPT_FILE', `not a readable ${cls.toUpperCase()}: ${err.message}`, { cause: err });
      // mammoth reports a broken package with plain errors (jszip "end of central directory", XML parse errors).
      if (cls === 'docx' && !(err instanceof ProcessingError) && !(err as NodeJS.ErrnoException).code) {
        throw new ProcessingError('CORRUPT_FILE', `not a readable DOCX: ${(err as Error).message}`, { cause: err });
      }
      throw err;
    }
  }
}

async function readAll(stream: NodeJS.ReadableStream, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > max) throw new ProcessingError('TOO_LARGE', `more than MAX_DOCUMENT_BYTES (${max}) bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
