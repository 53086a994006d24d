import { describe, expect, it } from 'vitest';
import { parseChecksum } from './checksum.js';
import { idFromUploadUrl, isOffsetContentType, parseConcat, parseMetadata, parseUploadLength, parseUploadOffset } from './protocol.js';

describe('header parsers', () => {
  it('accepts non-negative integers only, up to 2^53 - 1', () => {
    expect(parseUploadLength('0')).toBe(0);
    expect(parseUploadLength(' 42 ')).toBe(42);
    expect(parseUploadLength('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    for (const bad of ['-1', '1.5', '1e3', '0x10', '', 'abc', '9007199254740992', '99999999999999999999']) {
      expect(() => parseUploadLength(bad), bad).toThrow(expect.objectContaining({ code: 'INVALID_LENGTH', status: 400 }));
    }
    expect(() => parseUploadOffset(undefined)).toThrow(expect.objectContaining({ code: 'MISSING_OFFSET' }));
    expect(() => parseUploadOffset('-5')).toThrow(expect.objectContaining({ code: 'INVALID_OFFSET' }));
  });

  it('decodes metadata, keeps keys without values, refuses bad base64, duplicates and oversize', () => {
    expect(parseMetadata('filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential', 4096)).toEqual({
      filename: 'world_domination_plan.pdf',
      is_confidential: null,
    });
    expect(parseMetadata(undefined, 10)).toEqual({});
    expect(() => parseMetadata('a !!!!', 4096)).toThrow(expect.objectContaining({ code: 'INVALID_METADATA' }));
    expect(() => parseMetadata('a YQ==,a YQ==', 4096)).toThrow(expect.objectContaining({ code: 'INVALID_METADATA' }));
    expect(() => parseMetadata(`a ${'QUFB'.repeat(100)}`, 64)).toThrow(expect.objectContaining({ code: 'METADATA_TOO_LARGE', status: 431 }));
  });

  it('matches the tus content type, with or without parameters', () => {
    expect(isOffsetContentType('application/offset+octet-stream')).toBe(true);
    expect(isOffsetContentType('Application/Offset+Octet-Stream; charset=binary')).toBe(true);
    expect(isOffsetContentType('application/octet-stream')).toBe(false);
    expect(isOffsetContentType(undefined)).toBe(false);
  });

  it('parses Upload-Concat and resolves part URLs under the tus path only', () => {
    expect(parseConcat('partial')).toEqual({ kind: 'partial' });
    expect(parseConcat('final;/files/a http://h/files/b')).toEqual({ kind: 'final', urls: ['/files/a', 'http://h/files/b'] });
    expect(() => parseConcat('final;')).toThrow(expect.objectContaining({ code: 'INVALID_CONCAT' }));
    expect(() => parseConcat('whole')).toThrow(expect.objectContaining({ code: 'INVALID_CONCAT' }));
    expect(idFromUploadUrl('http://h:1/files/abc', '/files')).toBe('abc');
    expect(idFromUploadUrl('/files/abc', '/files')).toBe('abc');
    expect(idFromUploadUrl('/other/abc', '/files')).toBeUndefined();
    expect(idFromUploadUrl('/files/../etc/passwd', '/files')).toBeUndefined();
    expect(idFromUploadUrl('/files/a/b', '/files')).toBeUndefined();
  });

  it('parses Upload-Checksum', () => {
    expect(parseChecksum('sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0=').algorithm).toBe('sha1');
    expect(parseChecksum('SHA256 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=').algorithm).toBe('sha256');
    expect(() => parseChecksum('crc32 AAAAAA==')).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_CHECKSUM_ALGORITHM', status: 400 }));
    expect(() => parseChecksum('sha1')).toThrow(expect.objectContaining({ code: 'INVALID_CHECKSUM_HEADER' }));
    expect(() => parseChecksum('sha1 not*base64')).toThrow(expect.objectContaining({ code: 'INVALID_CHECKSUM_HEADER' }));
  });
});
