import { describe, expect, it } from 'vitest';
import { dispositionFilename, formatDictionary, parseBoolean, parseInteger } from './fields.js';
import { interopOf, LATEST, SERVED_VERSIONS } from './versions.js';

describe('structured fields', () => {
  it('reads Booleans and ignores every other value ("Other values MUST cause the entire header field to be ignored")', () => {
    expect(parseBoolean('?1')).toBe(true);
    expect(parseBoolean(' ?0 ')).toBe(false);
    expect(parseBoolean('?1;a=b')).toBe(true);
    for (const bad of ['1', 'true', '?', '?2', '', '"?1"']) expect(parseBoolean(bad), bad).toBeUndefined();
    expect(parseBoolean(undefined)).toBeUndefined();
  });
  it('reads non-negative Integers of at most 15 digits', () => {
    expect(parseInteger('0')).toBe(0);
    expect(parseInteger(' 123 ')).toBe(123);
    expect(parseInteger('999999999999999')).toBe(999999999999999);
    for (const bad of ['-1', '1.5', '1e3', '0x10', '1000000000000000', 'abc', '']) expect(parseInteger(bad), bad).toBeUndefined();
  });
  it('writes Upload-Limit as a Dictionary of Integers', () => {
    expect(formatDictionary({ 'max-size': 1024, 'max-age': 59.9 })).toBe('max-size=1024, max-age=59');
  });
  it('takes a file name from Content-Disposition, preferring filename*, without paths or controls', () => {
    expect(dispositionFilename('inline; filename="file name.jpg"; filename*=UTF-8\'\'file%20n%C3%A4me.jpg')).toBe('file näme.jpg');
    expect(dispositionFilename('attachment; filename="a\\"b.txt"')).toBe('a"b.txt');
    expect(dispositionFilename('inline; filename=../../etc/passwd')).toBe('passwd');
    expect(dispositionFilename('inline; filename=".."')).toBeUndefined();
    expect(dispositionFilename('inline')).toBeUndefined();
  });
});

describe('interop versions', () => {
  it('serves 3 to 8, with what changed between them', () => {
    expect(SERVED_VERSIONS).toEqual([3, 4, 5, 6, 7, 8]);
    expect(interopOf('3')?.completeField).toBe('Upload-Incomplete');
    expect(interopOf('4')?.completeField).toBe('Upload-Complete');
    expect(interopOf('4')?.progress).toBe(false);
    expect(interopOf('5')?.progress).toBe(true);
    expect(interopOf('6')).toMatchObject({ partialUploadType: true, problems: true, inconsistentLengthProblem: false, limits: 'expires' });
    expect(interopOf('7')).toMatchObject({ inconsistentLengthProblem: true, limits: 'max-age' });
    expect(LATEST.version).toBe(8);
    for (const bad of ['2', '9', '', 'x', '6.0']) expect(interopOf(bad), bad).toBeUndefined();
  });
});
