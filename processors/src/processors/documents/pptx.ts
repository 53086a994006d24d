import path from 'node:path';
import type { TextCollector } from '../text.js';
import { coreProperties, decodeXml, MAX_PART_BYTES } from './ooxml.js';
import { ZipError, type ZipReader } from './zip.js';

export interface PptxResult {
  slides: number;
  metadata: Record<string, string>;
}

/**
 * Slide text of a PPTX, in presentation order (`ppt/presentation.xml` slide list through its
 * relationships; numeric order of `ppt/slides/slideN.xml` when that list is missing). Each slide is one
 * segment with `ref` = slide number; paragraphs (`<a:p>`) become lines, runs (`<a:t>`) are joined. The
 * slide's speaker notes (the body placeholder of its notes slide; not the slide image or number) follow
 * under a `Speaker notes:` line: in a lecture deck they often carry most of the words.
 */
export async function extractPptx(zip: ZipReader, collect: TextCollector, onSlide: (done: number, total: number) => Promise<void>): Promise<PptxResult> {
  const slides = await slideOrder(zip);
  if (slides.length === 0 && !zip.has('ppt/presentation.xml')) throw new ZipError('not a presentation: ppt/presentation.xml is missing');
  for (const [i, part] of slides.entries()) {
    const xml = await zip.text(part, MAX_PART_BYTES);
    if (xml === null) throw new ZipError(`${part} is listed but missing`);
    const notes = await notesText(zip, part);
    const text = [slideText(xml), notes && `Speaker notes:\n${notes}`].filter(Boolean).join('\n\n');
    if (text && !collect.add({ ref: i + 1, text })) break;
    await onSlide(i + 1, slides.length);
  }
  return { slides: slides.length, metadata: await coreProperties(zip) };
}

/** The text of one slide: one line per paragraph. */
export function slideText(xml: string): string {
  const lines: string[] = [];
  for (const p of xml.match(/<a:p[\s>][\s\S]*?<\/a:p>/g) ?? []) {
    const runs = [...p.matchAll(/<a:t(?:\s[^>]*)?>([\s\S]*?)<\/a:t>/g)].map((m) => decodeXml(m[1]));
    const line = runs.join('').trim();
    if (line) lines.push(line);
  }
  return lines.join('\n');
}

/** The text of a slide's speaker notes, or '' when it has none. */
async function notesText(zip: ZipReader, slidePart: string): Promise<string> {
  const rels = await zip.text(`${path.posix.dirname(slidePart)}/_rels/${path.posix.basename(slidePart)}.rels`, MAX_PART_BYTES);
  const target = rels && [...rels.matchAll(/<Relationship\s[^>]*>/g)]
    .map((m) => m[0])
    .find((r) => /\sType="[^"]*\/notesSlide"/.test(r))
    ?.match(/\sTarget="([^"]+)"/)?.[1];
  if (!target) return '';
  const part = target.startsWith('/') ? target.slice(1) : path.posix.normalize(path.posix.join(path.posix.dirname(slidePart), target));
  const xml = await zip.text(part, MAX_PART_BYTES);
  if (!xml) return '';
  const body = (xml.match(/<p:sp[\s>][\s\S]*?<\/p:sp>/g) ?? []).filter((shape) => /<p:ph\s[^>]*type="body"/.test(shape));
  return body.map(slideText).filter(Boolean).join('\n');
}

async function slideOrder(zip: ZipReader): Promise<string[]> {
  const presentation = await zip.text('ppt/presentation.xml', MAX_PART_BYTES);
  const rels = await zip.text('ppt/_rels/presentation.xml.rels', MAX_PART_BYTES);
  if (presentation && rels) {
    const targets = new Map<string, string>();
    for (const m of rels.matchAll(/<Relationship\s[^>]*>/g)) {
      const id = /\sId="([^"]+)"/.exec(m[0])?.[1];
      const target = /\sTarget="([^"]+)"/.exec(m[0])?.[1];
      if (id && target) targets.set(id, target.startsWith('/') ? target.slice(1) : `ppt/${target.replace(/^\.\//, '')}`);
    }
    const ordered = [...presentation.matchAll(/<p:sldId\s[^>]*r:id="([^"]+)"/g)].map((m) => targets.get(m[1])).filter((t): t is string => !!t && zip.has(t));
    if (ordered.length > 0) return ordered;
  }
  return [...zip.entries.keys()]
    .filter((n) => /^ppt\/slides\/slide\d+\.xml$/.test(n))
    .sort((a, b) => Number(/(\d+)\.xml$/.exec(a)![1]) - Number(/(\d+)\.xml$/.exec(b)![1]));
}
