import { describe, expect, it } from 'vitest';
import { cacheControl, notModified, rangeStillValid, strongEtag } from './conditional.js';

const HEX = 'ab'.repeat(32);

describe('download validators', () => {
  it('a strong ETag: the sha256 when known, else the id, size and completion time', () => {
    expect(strongEtag({ id: 'u1', size: 5, completedAt: '2026-01-01T00:00:00.000Z', sha256: HEX.toUpperCase() })).toBe(`"${HEX}"`);
    const tag = strongEtag({ id: 'u1', size: 5, completedAt: '2026-01-01T00:00:00.000Z' });
    expect(tag).toMatch(/^"u1\.5\.[0-9a-z]+"$/);
    expect(strongEtag({ id: 'u1', size: 5, completedAt: '2026-01-01T00:00:00.000Z', sha256: null })).toBe(tag);
    expect(strongEtag({ id: 'u1', size: 5, completedAt: '2026-01-01T00:00:01.000Z' })).not.toBe(tag);
  });

  it('If-None-Match: weak comparison over a list, and *', () => {
    expect(notModified(undefined, '"a"')).toBe(false);
    expect(notModified('"a"', '"a"')).toBe(true);
    expect(notModified('W/"a"', '"a"')).toBe(true);
    expect(notModified('"x", "a"', '"a"')).toBe(true);
    expect(notModified('"x","y"', '"a"')).toBe(false);
    expect(notModified('*', '"a"')).toBe(true);
  });

  it('If-Range: strong comparison of entity tags, exact dates against Last-Modified', () => {
    const modified = new Date('2026-01-01T00:00:00.500Z');
    expect(rangeStillValid(undefined, '"a"', modified)).toBe(true);
    expect(rangeStillValid('"a"', '"a"', modified)).toBe(true);
    expect(rangeStillValid('W/"a"', '"a"', modified)).toBe(false);
    expect(rangeStillValid('"b"', '"a"', modified)).toBe(false);
    expect(rangeStillValid(modified.toUTCString(), '"a"', modified)).toBe(true);
    expect(rangeStillValid('Thu, 01 Jan 2026 00:00:01 GMT', '"a"', modified)).toBe(false);
    expect(rangeStillValid('not a date', '"a"', modified)).toBe(false);
  });

  it('Cache-Control: public only for shared caches, always immutable', () => {
    expect(cacheControl({ shared: true, maxAgeSeconds: 60 })).toBe('public, max-age=60, immutable');
    expect(cacheControl({ shared: false, maxAgeSeconds: 60.7 })).toBe('private, max-age=60, immutable');
  });
});
