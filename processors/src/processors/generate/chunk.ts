import type { ExtractedText, TextSegment } from '../text.js';

/** A cheap token estimate (about four characters per token for English; no tokenizer is bundled). */
export function estimateTokens(s: string): number {
  return Math.ceil(s.length / 4);
}

/** `[time 65s]`, `[page 3]`, `[slide 2]`, `[section 4]`. */
export function marker(text: ExtractedText, segment: TextSegment): string {
  if (text.unit === 'time') return `[time ${Math.floor(segment.start ?? 0)}s]`;
  return `[${text.unit} ${segment.ref ?? 1}]`;
}

/**
 * Renders the segments with their markers and cuts them into chunks of at most `budget` tokens, at
 * segment boundaries; a segment longer than the budget is split (each piece keeps its marker).
 */
export function chunkText(text: ExtractedText, budget: number): string[] {
  const maxChars = Math.max(200, budget * 4);
  const chunks: string[] = [];
  let current = '';
  const flush = () => {
    if (current) chunks.push(current);
    current = '';
  };
  for (const segment of text.segments) {
    const body = segment.text.trim();
    if (!body) continue;
    const label = marker(text, segment);
    const pieces: string[] = [];
    const room = maxChars - label.length - 2;
    for (let at = 0; at < body.length; at += room) pieces.push(`${label} ${body.slice(at, at + room)}`);
    for (const piece of pieces) {
      if (current && current.length + 1 + piece.length > maxChars) flush();
      current = current ? `${current}\n${piece}` : piece;
    }
  }
  flush();
  return chunks;
}
