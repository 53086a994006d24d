/**
 * The documents processor on real files made in the test: a hand-written PDF, DOCX and PPTX packages
 * from a small zip writer, plain text and Markdown; and broken, truncated and mislabelled ones.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/config.js';
import { ProcessingError } from '../../errors.js';
import { FileResultStore } from '../../results/file.js';
import { createUploadAccess, type RandomAccess } from '../../storage/access.js';
import { testContext } from '@tus-edge/testkit';
import { makeDocx, makePdf, makePptx, makeZip } from '@tus-edge/testkit';
import { makeEvent } from '@tus-edge/testkit';
import { tempDir } from '@tus-edge/testkit';
import { sniff } from '../sniff.js';
import type { ExtractedText } from '../text.js';
import { TextCollector } from '../text.js';
import { DocumentsProcessor } from './documents.js';
import { extractPdf } from './pdf.js';
import { ZipReader } from './zip.js';

let dir: string;
let store: FileResultStore;
const config = parseConfig({}).documents;
beforeAll(async () => {
  dir = await tempDir();
  store = new FileResultStore(path.join(dir, 'results'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function run(data: Buffer, metadata: Record<string, string> = {}, processor = new DocumentsProcessor(config, createUploadAccess(undefined))) {
  const file = path.join(dir, `in-${Math.random().toString(36).slice(2)}`);
  await fs.writeFile(file, data);
  const event = makeEvent({ size: data.length, filePath: file, metadata });
  const sniffed = sniff(data.subarray(0, 65536));
  const ctx = testContext(event, store, { sniffed });
  const accepted = processor.accepts(event, sniffed);
  try {
    const out = await processor.run(event, ctx);
    const text = JSON.parse((await ctx.results.read('text.json'))!.toString('utf8')) as ExtractedText;
    return { accepted, out, text, ctx, event, err: undefined };
  } catch (err) {
    return { accepted, err: err as ProcessingError, ctx, event, out: undefined, text: undefined as unknown as ExtractedText };
  }
}

/** Overwrites the compressed bytes of one entry with 0xff (not valid deflate). */
function corruptEntry(zip: Buffer, name: string): Buffer {
  const out = Buffer.from(zip);
  const entry = new ZipReader(out).entries.get(name)!;
  const start = entry.localHeaderOffset + 30 + out.readUInt16LE(entry.localHeaderOffset + 26) + out.readUInt16LE(entry.localHeaderOffset + 28);
  out.fill(0xff, start, start + entry.compressedSize);
  return out;
}

describe('DocumentsProcessor', () => {
  it('PDF: text per page, page count and document information', async () => {
    const pdf = makePdf(['Cells divide by mitosis.\nThis is the first page.', 'Chloroplasts do photosynthesis.', 'The end.'], { Title: 'Biology 101', Author: 'Ann Teacher' });
    const { accepted, out, text } = await run(pdf, { filename: 'bio.pdf', filetype: 'application/pdf' });
    expect(accepted).toBe(true);
    expect(out!.result).toMatchObject({ format: 'pdf', unit: 'page', units: 3, truncated: false, metadata: { title: 'Biology 101', author: 'Ann Teacher', pdfVersion: '1.4' } });
    expect(text.segments.map((s) => [s.ref, s.text])).toEqual([
      [1, 'Cells divide by mitosis.\nThis is the first page.'],
      [2, 'Chloroplasts do photosynthesis.'],
      [3, 'The end.'],
    ]);
    expect((out!.result!.files as Array<{ name: string }>).map((f) => f.name)).toEqual(['text.json', 'text.txt']);
    expect(out!.outputLocation).toMatch(/^file:\/\/.*\/results\/u[a-z0-9]+\/$/);
  });

  it('PDF: read in ranges, so a large PDF is not loaded whole to reach its pages', async () => {
    const pages = Array.from({ length: 400 }, (_, i) => `Page ${i + 1} ${'filler text '.repeat(300)}`);
    const pdf = makePdf(pages);
    const file = path.join(dir, 'big.pdf');
    await fs.writeFile(file, pdf);
    const real = await createUploadAccess(undefined).openRandomAccess({ kind: 'file', path: file });
    let bytesRead = 0;
    const counting: RandomAccess = { size: real.size, read: async (o, l) => { const b = await real.read(o, l); bytesRead += b.length; return b; }, close: () => real.close() };
    // Budget for about three pages of text: extraction stops there, and pdf.js fetched only what those pages need.
    const collect = new TextCollector(10_000);
    const result = await extractPdf(counting, collect, new AbortController().signal, () => undefined);
    await counting.close();
    expect(result.pages).toBe(400);
    expect(collect.truncated).toBe(true);
    expect(collect.segments[0].text).toMatch(/^Page 1 filler/);
    expect(pdf.length).toBeGreaterThan(1_400_000);
    expect(bytesRead).toBeLessThan(pdf.length / 2);
  });

  it('DOCX through mammoth: paragraphs grouped into sections, core properties', async () => {
    const docx = makeDocx(['Photosynthesis basics', 'Light reactions happen in the thylakoid.', 'The Calvin cycle fixes carbon.'], { title: 'Plants', author: 'Bo' });
    const { out, text } = await run(docx, { filename: 'plants.docx' });
    expect(out!.result).toMatchObject({ format: 'docx', unit: 'section', units: 1, metadata: { title: 'Plants', author: 'Bo' } });
    expect(text.segments).toEqual([{ ref: 1, text: 'Photosynthesis basics\n\nLight reactions happen in the thylakoid.\n\nThe Calvin cycle fixes carbon.' }]);
  });

  it('PPTX: slide text in presentation order (from presentation.xml, not file names)', async () => {
    const pptx = makePptx([['Slide file one', 'first bullet'], ['Slide file two'], ['Slide file three']], { title: 'Deck' }, [2, 1, 3]);
    expect(sniff(pptx).ext).toBe('pptx');
    const { out, text } = await run(pptx, { filename: 'deck.pptx' });
    expect(out!.result).toMatchObject({ format: 'pptx', unit: 'slide', units: 3, metadata: { title: 'Deck' } });
    expect(text.segments).toEqual([
      { ref: 1, text: 'Slide file two' },
      { ref: 2, text: 'Slide file one\nfirst bullet' },
      { ref: 3, text: 'Slide file three' },
    ]);
  });

  it('PPTX: speaker notes follow their slide (the notes body only, not the slide number)', async () => {
    const pptx = makePptx([['Mitosis'], ['Meiosis', 'two divisions']], {}, undefined, { 2: ['Remind them of the quiz.', 'Crossing over happens here.'] });
    const { text } = await run(pptx, { filename: 'lecture.pptx' });
    expect(text.segments).toEqual([
      { ref: 1, text: 'Mitosis' },
      { ref: 2, text: 'Meiosis\ntwo divisions\n\nSpeaker notes:\nRemind them of the quiz.\nCrossing over happens here.' },
    ]);
  });

  it('Markdown is split at headings; plain text at blank lines; both streamed', async () => {
    const md = Buffer.from('# Course notes\n\nIntro text.\n\n## Part two\n\nMore text.\n');
    const { out, text } = await run(md, { filename: 'notes.md', filetype: 'text/markdown' });
    expect(out!.result).toMatchObject({ format: 'markdown', units: 2, metadata: { title: 'Course notes' } });
    expect(text.segments.map((s) => s.text)).toEqual(['# Course notes\n\nIntro text.', '## Part two\n\nMore text.']);
    const plain = await run(Buffer.from('one\r\n\r\ntwo\n'), {});
    expect(plain.out!.result).toMatchObject({ format: 'text', units: 1 });
    expect(plain.text!.segments).toEqual([{ ref: 1, text: 'one\n\ntwo' }]);
  });

  it('cuts the text at MAX_DOCUMENT_TEXT_BYTES and says so', async () => {
    const processor = new DocumentsProcessor({ ...config, maxTextBytes: 1000 }, createUploadAccess(undefined));
    const { out, text } = await run(Buffer.from('word '.repeat(10_000)), { filename: 'long.txt' }, processor);
    expect(out!.result).toMatchObject({ truncated: true, chars: 1000 });
    expect(Buffer.byteLength(text.segments.map((s) => s.text).join(''))).toBe(1000);
  });

  it('refuses DOCX/PPTX over MAX_DOCUMENT_BYTES without reading them', async () => {
    const processor = new DocumentsProcessor({ ...config, maxBytes: 100 }, createUploadAccess(undefined));
    const { err } = await run(makeDocx(['x'.repeat(500)]), {}, processor);
    expect(err).toBeInstanceOf(ProcessingError);
    expect(err).toMatchObject({ code: 'TOO_LARGE', retryable: false });
  });

  it.each([
    ['a PDF of garbage', Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(5000, 7)]), /not a readable PDF: Invalid PDF structure/],
    ['a truncated PDF', makePdf(['Some page text']).subarray(0, 300), /not a readable PDF/],
    ['a truncated DOCX', makeDocx(['Some paragraph']).subarray(0, 400), /not a readable DOCX: not a zip archive, or truncated/, { filename: 'notes.docx' }],
    ['a DOCX without its document part', makeZip([{ name: '[Content_Types].xml', data: '<Types/>' }, { name: 'word/other.xml', data: '<x/>' }]), /not a readable DOCX: not a Word document/],
    ['a PPTX whose slide does not inflate', corruptEntry(makePptx([['some slide text here']]), 'ppt/slides/slide1.xml'), /not a readable PPTX: corrupt zip: ppt\/slides\/slide1.xml does not inflate/],
  ] as Array<[string, Buffer, RegExp, Record<string, string>?]>)('%s fails permanently as CORRUPT_FILE with a reason', async (_, data, reason, metadata = {}) => {
    const { err } = await run(data, metadata);
    expect(err).toBeInstanceOf(ProcessingError);
    expect(err!.code).toBe('CORRUPT_FILE');
    expect(err!.retryable).toBe(false);
    expect(err!.message).toMatch(reason);
  });

  it('a file declared as a document whose content is not one fails as MISLABELLED; other files are not its business', async () => {
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(100)]);
    const mislabelled = await run(png, { filename: 'report.pdf', filetype: 'application/pdf' });
    expect(mislabelled.accepted).toBe(true);
    expect(mislabelled.err).toMatchObject({ code: 'MISLABELLED', retryable: false, message: 'declared application/pdf, but the content is image/png' });
    const processor = new DocumentsProcessor(config, createUploadAccess(undefined));
    const event = makeEvent({ metadata: { filetype: 'image/png' } });
    expect(processor.accepts(event)).toBe(true); // before the type is known
    expect(processor.accepts(event, { mime: 'image/png', ext: 'png' })).toBe(false);
    expect(processor.accepts(makeEvent({ metadata: { filetype: 'application/json' } }), { mime: 'text/plain', ext: 'txt' })).toBe(false);
  });
});
