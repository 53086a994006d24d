import { describe, expect, it } from 'vitest';
import { sniff } from './sniff.js';

const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const box = (brand: string) => bytes([0, 0, 0, 0x18], 'ftyp', brand, [0, 0, 0, 0], 'isommp41');
/** A zip local file header for `name` with no data. */
const zipEntry = (name: string) => {
  const h = Buffer.alloc(30);
  h.write('PK\x03\x04', 0, 'latin1');
  h.writeUInt16LE(name.length, 26);
  return Buffer.concat([h, Buffer.from(name, 'latin1')]);
};

describe('sniff', () => {
  it.each([
    ['mp4', box('isom'), 'video/mp4'],
    ['mov', box('qt  '), 'video/quicktime'],
    ['webm', bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, 0x84], 'webm'), 'video/webm'],
    ['mkv', bytes([0x1a, 0x45, 0xdf, 0xa3, 0xa3, 0x42, 0x82, 0x88], 'matroska'), 'video/x-matroska'],
    ['avi', bytes('RIFF', [0, 0, 0, 0], 'AVI LIST'), 'video/x-msvideo'],
    ['pdf', bytes('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n'), 'application/pdf'],
    ['docx', Buffer.concat([zipEntry('[Content_Types].xml'), zipEntry('_rels/.rels'), zipEntry('word/document.xml')]), 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
    ['pptx', Buffer.concat([zipEntry('[Content_Types].xml'), zipEntry('ppt/presentation.xml')]), 'application/vnd.openxmlformats-officedocument.presentationml.presentation'],
    ['xlsx', Buffer.concat([zipEntry('[Content_Types].xml'), zipEntry('xl/workbook.xml')]), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
    ['zip', Buffer.concat([zipEntry('photo.jpg'), zipEntry('word/notes.txt')]), 'application/zip'],
    ['png', bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13], 'IHDR'), 'image/png'],
    ['jpeg', bytes([0xff, 0xd8, 0xff, 0xe0, 0, 0x10], 'JFIF'), 'image/jpeg'],
    ['gif', bytes('GIF89a', [1, 0, 1, 0]), 'image/gif'],
    ['webp', bytes('RIFF', [0, 0, 0, 0], 'WEBPVP8 '), 'image/webp'],
    ['mp3 (ID3)', bytes('ID3', [4, 0, 0, 0, 0, 0, 0]), 'audio/mpeg'],
    ['mp3 (frame)', bytes([0xff, 0xfb, 0x90, 0x64, 0, 0]), 'audio/mpeg'],
    ['wav', bytes('RIFF', [0, 0, 0, 0], 'WAVEfmt '), 'audio/wav'],
    ['ogg', bytes('OggS', [0, 2, 0, 0], '\x01vorbis'), 'audio/ogg'],
    ['flac', bytes('fLaC', [0, 0, 0, 0x22]), 'audio/flac'],
    ['text', Buffer.from('hello, wörld\n\ttabbed line\r\n'), 'text/plain'],
    ['binary', bytes([0, 1, 2, 3, 0xfe, 0xff]), 'application/octet-stream'],
    ['empty', Buffer.alloc(0), 'application/octet-stream'],
  ])('%s', (_name, head, mime) => {
    expect(sniff(head).mime).toBe(mime);
  });

  it('text cut in the middle of a multi-byte character is still text', () => {
    const text = Buffer.from('naïve café ✓');
    expect(sniff(text.subarray(0, text.length - 1)).mime).toBe('text/plain');
  });

  it('the declared name does not matter, only the bytes', () => {
    expect(sniff(Buffer.from('%PDF-1.4')).ext).toBe('pdf');
  });
});
