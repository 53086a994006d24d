import { describe, expect, it } from 'vitest';
import type { UploadRecord } from '../../records/types.js';
import { parseRange } from '../../http/range.js';
import { contentDisposition } from './get.js';

const rec = (metadata: Record<string, string | null>): UploadRecord => ({ id: 'x', metadata, createdAt: '', updatedAt: '' });

describe('parseRange', () => {
  it('handles start-end, open-ended and suffix ranges', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=50-1000', 100)).toEqual({ start: 50, end: 99 });
    expect(parseRange('bytes=-1000', 100)).toEqual({ start: 0, end: 99 });
  });
  it('reports unsatisfiable ranges and ignores ones it does not serve', () => {
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-1,5-6', 100)).toBeUndefined();
    expect(parseRange('items=0-1', 100)).toBeUndefined();
    expect(parseRange('bytes=9-3', 100)).toBeUndefined();
  });
});

describe('contentDisposition', () => {
  it('is inline only for safe types and attachment otherwise', () => {
    expect(contentDisposition(rec({ filename: 'a.png' }), 'image/png')).toMatch(/^inline;/);
    expect(contentDisposition(rec({ filename: 'a.html' }), 'text/html')).toMatch(/^attachment;/);
    expect(contentDisposition(rec({}), 'application/octet-stream')).toBe('attachment');
  });
  it('cannot inject headers, quotes or paths through the filename', () => {
    const v = contentDisposition(rec({ filename: '../../etc/pa"ss\r\nSet-Cookie: x=1;.txt' }), 'application/octet-stream');
    expect(v).not.toMatch(/[\r\n]/);
    expect(v).not.toContain('..');
    expect(v).toMatch(/^attachment; filename="[^"]*"; filename\*=UTF-8''[A-Za-z0-9%._~!-]*$/);
  });
  it('keeps unicode names in filename* and an ASCII stand-in in filename', () => {
    expect(contentDisposition(rec({ filename: 'résumé.pdf' }), 'application/pdf')).toBe(
      "attachment; filename=\"r_sum_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf",
    );
  });
});
