import type { ExtractedText, TextSegment } from '../text.js';

/**
 * A cheap, deliberately high token estimate (no tokenizer is bundled): about four ASCII characters per
 * token, two per character of other alphabets (accented Latin, Cyrillic, Greek, Arabic…), and one
 * token per character of scripts written without spaces (CJK, kana, Hangul, Thai) and per emoji.
 * Counting every character as a quarter token made Chinese or Japanese chunks four times the budget,
 * and the API refused them.
 */
export function estimateTokens(s: string): number {
  let cost = 0;
  for (const ch of s) cost += charCost(ch.codePointAt(0)!);
  return Math.ceil(cost);
}

function charCost(c: number): number {
  if (c < 0x80) return 0.25;
  const wide =
    (c >= 0x0e00 && c <= 0x0e7f) || // Thai
    (c >= 0x1100 && c <= 0x11ff) || // Hangul Jamo
    (c >= 0x2e80 && c <= 0x9fff) || // CJK radicals, symbols, kana, CJK unified ideographs
    (c >= 0xac00 && c <= 0xd7af) || // Hangul syllables
    (c >= 0xf900 && c <= 0xfaff) || // CJK compatibility ideographs
    (c >= 0xff00 && c <= 0xffef) || // full-width forms
    c >= 0x1f000; // emoji, CJK extensions
  return wide ? 1 : 0.5;
}

/** `body` cut into pieces of at most `room` estimated tokens (at least one character each). */
function splitToBudget(body: string, room: number): string[] {
  const pieces: string[] = [];
  let start = 0;
  let at = 0;
  let cost = 0;
  for (const ch of body) {
    const c = charCost(ch.codePointAt(0)!);
    if (cost + c > room && at > start) {
      pieces.push(body.slice(start, at));
      start = at;
      cost = 0;
    }
    cost += c;
    at += ch.length;
  }
  if (at > start) pieces.push(body.slice(start, at));
  return pieces;
}

/** `[time 65s]`, `[page 3]`, `[slide 2]`, `[section 4]`. */
export function marker(text: ExtractedText, segment: TextSegment): string {
  if (text.unit === 'time') return `[time ${Math.floor(segment.start ?? 0)}s]`;
  return `[${text.unit} ${segment.ref ?? 1}]`;
}

/**
 * Renders the segments with their markers and cuts them into chunks of at most `budget` estimated
 * tokens ({@link estimateTokens}), at segment boundaries; a segment longer than the budget is split
 * (each piece keeps its marker).
 */
export function chunkText(text: ExtractedText, budget: number): string[] {
  const limit = Math.max(50, budget);
  const chunks: string[] = [];
  let current = '';
  let currentTokens = 0;
  const flush = () => {
    if (current) chunks.push(current);
    current = '';
    currentTokens = 0;
  };
  for (const segment of text.segments) {
    const body = segment.text.trim();
    if (!body) continue;
    const label = marker(text, segment);
    for (const piece of splitToBudget(body, Math.max(1, limit - estimateTokens(label) - 1))) {
      const line = `${label} ${piece}`;
      const tokens = estimateTokens(line);
      if (current && currentTokens + 1 + tokens > limit) flush();
      currentTokens += current ? tokens + 1 : tokens;
      current = current ? `${current}\n${line}` : line;
    }
  }
  flush();
  return chunks;
}
