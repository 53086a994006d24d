import type { PDFDataRangeTransport } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { ProcessingError } from '../../errors.js';
import type { RandomAccess } from '../../storage/access.js';
import { lazy } from '../lazy.js';
import type { TextCollector } from '../text.js';

/** pdf.js asks for the document in pieces of this size, and only for the pieces it needs. */
const RANGE_CHUNK = 256 * 1024;
/** Pages extracted per call; the signal is checked and the event loop gets a turn in between. */
const PAGE_BATCH = 8;
const INFO_FIELDS: Record<string, string> = {
  Title: 'title', Author: 'author', Subject: 'subject', Keywords: 'keywords', Creator: 'creator', Producer: 'producer',
  CreationDate: 'created', ModDate: 'modified', PDFFormatVersion: 'pdfVersion',
};

export interface PdfResult {
  pages: number;
  metadata: Record<string, string>;
}

/**
 * pdf-parse and pdf.js, loaded on the first PDF: together they weigh ~30 MB of memory, which a server
 * that never sees a PDF should not carry.
 */
const pdfLibrary = lazy(async () => {
  const [{ PDFParse }, { PDFDataRangeTransport: Transport }] = await Promise.all([import('pdf-parse'), import('pdfjs-dist/legacy/build/pdf.mjs')]);
  /**
   * Feeds pdf.js from positioned reads: the PDF is never loaded whole (pdf.js fetches the cross-reference
   * table and the objects of the pages it parses), so memory follows the pages, not the file.
   */
  class RangeTransport extends Transport {
    constructor(
      private readonly source: RandomAccess,
      private readonly onError: (err: unknown) => void,
    ) {
      super(source.size, null);
    }

    override requestDataRange(begin: number, end: number): void {
      this.source.read(begin, end - begin).then(
        (buf) => this.onDataRange(begin, new Uint8Array(buf.buffer, buf.byteOffset, buf.length)),
        this.onError,
      );
    }
  }
  return { PDFParse, rangeTransport: (source: RandomAccess, onError: (err: unknown) => void): PDFDataRangeTransport => new RangeTransport(source, onError) };
});

/**
 * Text per page (segment `ref` = page number), page count and document information of a PDF through
 * pdf-parse 2.x. Pages are extracted a few at a time until the text budget is used up.
 */
export async function extractPdf(source: RandomAccess, collect: TextCollector, signal: AbortSignal, onPages: (done: number, total: number) => void): Promise<PdfResult> {
  let failed: (err: unknown) => void = () => undefined;
  const failure = new Promise<never>((_, reject) => (failed = reject));
  failure.catch(() => undefined);
  const { PDFParse, rangeTransport } = await pdfLibrary();
  const parser = new PDFParse({
    range: rangeTransport(source, (err) => failed(err)),
    length: source.size,
    rangeChunkSize: RANGE_CHUNK,
    disableAutoFetch: true,
    disableStream: true,
    isEvalSupported: false,
    stopAtErrors: false,
  });
  const onAbort = () => failed(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  const step = <T>(work: Promise<T>) => Promise.race([work, failure]).catch((err) => Promise.reject(pdfError(err)));
  try {
    const info = await step(parser.getInfo());
    const metadata: Record<string, string> = {};
    const fields = (info.info ?? {}) as Record<string, unknown>;
    for (const [field, key] of Object.entries(INFO_FIELDS)) {
      const v = fields[field];
      if (typeof v === 'string' && v.trim()) metadata[key] = v.trim().slice(0, 300);
    }
    const pages = info.total;
    for (let first = 1; first <= pages; first += PAGE_BATCH) {
      const last = Math.min(pages, first + PAGE_BATCH - 1);
      const text = await step(parser.getText({ first, last, pageJoiner: '' }));
      let full = false;
      for (const page of text.pages) {
        if (!collect.add({ ref: page.num, text: page.text })) {
          full = true;
          break;
        }
      }
      onPages(last, pages);
      if (full) break;
      await new Promise((resolve) => setImmediate(resolve));
      signal.throwIfAborted();
    }
    return { pages, metadata };
  } finally {
    signal.removeEventListener('abort', onAbort);
    await parser.destroy().catch(() => undefined);
  }
}

/** pdf.js errors about the file become permanent failures; storage errors and aborts pass through. */
function pdfError(err: unknown): unknown {
  const name = (err as Error | undefined)?.name ?? '';
  const message = (err as Error | undefined)?.message ?? String(err);
  if (err instanceof ProcessingError) return err;
  if (name === 'PasswordException') return new ProcessingError('PERMANENT', `the PDF is encrypted (password protected): ${message}`, { cause: err });
  if (/Exception$|FormatError/.test(name)) return new ProcessingError('CORRUPT_FILE', `not a readable PDF: ${message}`, { cause: err });
  return err;
}
