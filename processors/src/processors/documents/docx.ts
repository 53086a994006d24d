import type { TextCollector } from '../text.js';
import { coreProperties, MAX_PART_BYTES } from './ooxml.js';
import { ZipError, type ZipReader } from './zip.js';

/** DOCX has no pages: its text is grouped into sections of about this many characters, at paragraph ends. */
export const SECTION_CHARS = 4000;

export interface DocxResult {
  sections: number;
  paragraphs: number;
  metadata: Record<string, string>;
  /** Messages mammoth reported (unsupported elements…), at most 10. */
  warnings: string[];
}

/**
 * Raw text of a DOCX through mammoth, grouped into sections ({@link SECTION_CHARS}) with `ref` = section
 * number. The main part's inflated size is checked first, so a zip bomb is refused before mammoth
 * inflates it.
 */
export async function extractDocx(buffer: Buffer, zip: ZipReader, collect: TextCollector): Promise<DocxResult> {
  const main = zip.entries.get('word/document.xml');
  if (!main) throw new ZipError('not a Word document: word/document.xml is missing');
  if (main.size > MAX_PART_BYTES) throw new ZipError(`word/document.xml inflates to ${main.size} bytes, more than the ${MAX_PART_BYTES} allowed`);
  // Loaded on the first DOCX (~13 MB of memory otherwise carried by every server).
  const { default: mammoth } = await import('mammoth');
  const { value, messages } = await mammoth.extractRawText({ buffer });
  const paragraphs = value.split(/\n{2,}/).map((p) => p.trim()).filter(Boolean);
  const sections = groupParagraphs(paragraphs, SECTION_CHARS);
  for (const [i, text] of sections.entries()) if (!collect.add({ ref: i + 1, text })) break;
  return {
    sections: sections.length,
    paragraphs: paragraphs.length,
    metadata: await coreProperties(zip),
    warnings: messages.slice(0, 10).map((m) => m.message),
  };
}

/** Joins paragraphs into groups of at most `max` characters (a longer paragraph is a group of its own). */
export function groupParagraphs(paragraphs: string[], max: number): string[] {
  const groups: string[] = [];
  let current = '';
  for (const p of paragraphs) {
    if (current && current.length + 2 + p.length > max) {
      groups.push(current);
      current = '';
    }
    current = current ? `${current}\n\n${p}` : p;
  }
  if (current) groups.push(current);
  return groups;
}
