import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import type { TextCollector } from '../text.js';
import { groupParagraphs, SECTION_CHARS } from './docx.js';

export interface PlainResult {
  sections: number;
  /** Markdown: the first `#` heading, if any. */
  title?: string;
}

/**
 * Plain text and Markdown, streamed: reading stops once the text budget is used up, so a huge file
 * costs no more memory than the budget. Markdown is split before each heading, then (both formats)
 * into sections of at most {@link SECTION_CHARS} characters at blank lines; `ref` = section number.
 */
export async function extractPlain(stream: Readable, markdown: boolean, collect: TextCollector, maxBytes: number): Promise<PlainResult> {
  const decoder = new StringDecoder('utf8');
  let text = '';
  let bytes = 0;
  let cut = false;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const room = maxBytes + 1 - bytes;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      text += decoder.write(part);
      bytes += part.length;
      if (bytes > maxBytes) {
        cut = true;
        break;
      }
    }
  } finally {
    stream.destroy();
  }
  text += decoder.end();
  text = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const blocks = markdown ? text.split(/\n(?=#{1,6}\s)/) : [text];
  const sections = blocks.flatMap((b) => groupParagraphs(b.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean), SECTION_CHARS));
  for (const [i, section] of sections.entries()) if (!collect.add({ ref: i + 1, text: section })) break;
  if (cut) collect.truncated = true;
  const title = markdown ? /^#\s+(.+)$/m.exec(text)?.[1]?.trim() : undefined;
  return { sections: sections.length, ...(title ? { title: title.slice(0, 300) } : {}) };
}
