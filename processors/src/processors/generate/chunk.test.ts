import { describe, expect, it } from 'vitest';
import type { ExtractedText } from '../text.js';
import { chunkText, estimateTokens } from './chunk.js';

const doc = (texts: string[]): ExtractedText => ({
  version: 1, source: 'documents', format: 'text', unit: 'section', chars: 0, truncated: false,
  segments: texts.map((text, i) => ({ ref: i + 1, text })),
});

describe('estimateTokens', () => {
  it('counts English at about four characters a token, other alphabets at two, CJK and kana at one', () => {
    expect(estimateTokens('abcdefgh')).toBe(2);
    expect(estimateTokens('привет')).toBe(3);
    expect(estimateTokens('细胞通过有丝分裂分裂')).toBe(10);
    expect(estimateTokens('ひらがなカタカナ')).toBe(8);
    expect(estimateTokens('한국어')).toBe(3);
    expect(estimateTokens('')).toBe(0);
  });
});

describe('chunkText', () => {
  it('keeps every chunk within the budget for English and for Chinese alike, and loses no text', () => {
    for (const sentence of ['Cells divide by mitosis and then rest. ', '细胞通过有丝分裂进行分裂，然后休息。']) {
      const text = doc(Array.from({ length: 30 }, () => sentence.repeat(20)));
      const chunks = chunkText(text, 300);
      expect(chunks.length).toBeGreaterThan(1);
      for (const chunk of chunks) expect(estimateTokens(chunk)).toBeLessThanOrEqual(300);
      const joined = chunks.join('\n').replace(/\[section \d+\] /g, '').replace(/\n/g, '');
      expect(joined).toBe(text.segments.map((s) => s.text.trim()).join(''));
    }
    // The Chinese text is cut about four times as often as before (it was cut at 4 characters a token).
    const chinese = chunkText(doc(['细胞分裂'.repeat(1000)]), 300);
    expect(chinese.every((c) => c.length <= 310)).toBe(true);
  });

  it('splits one long segment into pieces that each keep its marker', () => {
    const chunks = chunkText(doc(['word '.repeat(1000)]), 100);
    expect(chunks.length).toBeGreaterThan(10);
    for (const c of chunks) expect(c.startsWith('[section 1] ')).toBe(true);
  });
});
