import type { SniffedType } from './types.js';

/** Bytes of the file head the sniffer looks at (OOXML part names may come after a few entries). */
export const SNIFF_BYTES = 64 * 1024;

const ascii = (buf: Buffer, start: number, end: number) => buf.toString('latin1', start, end);
const startsWith = (buf: Buffer, bytes: number[], offset = 0) => bytes.every((b, i) => buf[offset + i] === b);
const type = (mime: string, ext: string | null): SniffedType => ({ mime, ext });

/**
 * Finds the real type of a file from its first bytes (magic numbers), never from its name or declared
 * type. Knows video containers (mp4, mov, webm, mkv, avi), pdf, OOXML (docx, pptx, xlsx) and plain zip,
 * images (png, jpeg, gif, webp), audio (mp3, wav, ogg, flac) and UTF-8 plain text.
 */
export function sniff(head: Buffer): SniffedType {
  if (head.length >= 12 && ascii(head, 4, 8) === 'ftyp') return isoBmff(ascii(head, 8, 12));
  if (startsWith(head, [0x1a, 0x45, 0xdf, 0xa3])) {
    return ascii(head, 0, 64).includes('webm') ? type('video/webm', 'webm') : type('video/x-matroska', 'mkv');
  }
  if (ascii(head, 0, 4) === 'RIFF' && head.length >= 12) {
    const form = ascii(head, 8, 12);
    if (form === 'AVI ') return type('video/x-msvideo', 'avi');
    if (form === 'WAVE') return type('audio/wav', 'wav');
    if (form === 'WEBP') return type('image/webp', 'webp');
  }
  if (ascii(head, 0, 5) === '%PDF-') return type('application/pdf', 'pdf');
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) return zip(head);
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return type('image/png', 'png');
  if (startsWith(head, [0xff, 0xd8, 0xff])) return type('image/jpeg', 'jpg');
  if (ascii(head, 0, 6) === 'GIF87a' || ascii(head, 0, 6) === 'GIF89a') return type('image/gif', 'gif');
  if (ascii(head, 0, 4) === 'fLaC') return type('audio/flac', 'flac');
  if (ascii(head, 0, 4) === 'OggS') {
    return ascii(head, 0, 128).includes('theora') ? type('video/ogg', 'ogv') : type('audio/ogg', 'ogg');
  }
  if (ascii(head, 0, 3) === 'ID3' || isMp3Frame(head)) return type('audio/mpeg', 'mp3');
  if (isText(head)) return type('text/plain', 'txt');
  return type('application/octet-stream', null);
}

/** ISO base media (`ftyp` box): QuickTime brand → mov, audio brands → m4a, else mp4. */
function isoBmff(brand: string): SniffedType {
  if (brand === 'qt  ') return type('video/quicktime', 'mov');
  if (brand === 'M4A ' || brand === 'M4B ') return type('audio/mp4', 'm4a');
  if (brand.startsWith('3gp')) return type('video/3gpp', '3gp');
  if (['heic', 'heix', 'mif1', 'avif'].includes(brand)) return type(brand === 'avif' ? 'image/avif' : 'image/heic', brand === 'avif' ? 'avif' : 'heic');
  return type('video/mp4', 'mp4');
}

/** Zip: OOXML documents are told apart by the names of their parts (`word/`, `ppt/`, `xl/`). */
function zip(head: Buffer): SniffedType {
  const names: string[] = [];
  for (let at = 0; at >= 0 && at + 30 <= head.length; at = head.indexOf('PK\x03\x04', at + 4, 'latin1')) {
    const nameLength = head.readUInt16LE(at + 26);
    names.push(ascii(head, at + 30, Math.min(head.length, at + 30 + nameLength)));
  }
  const has = (prefix: string) => names.some((n) => n.startsWith(prefix));
  if (has('[Content_Types].xml') || has('_rels/') || has('docProps/')) {
    if (has('word/')) return type('application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'docx');
    if (has('ppt/')) return type('application/vnd.openxmlformats-officedocument.presentationml.presentation', 'pptx');
    if (has('xl/')) return type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'xlsx');
  }
  return type('application/zip', 'zip');
}

/** MPEG audio frame sync (11 bits set) with layer III. */
function isMp3Frame(head: Buffer): boolean {
  return head.length >= 3 && head[0] === 0xff && (head[1] & 0xe0) === 0xe0 && ((head[1] >> 1) & 0x03) === 0x01;
}

/** Valid UTF-8 (a sequence cut by the end of the head is fine) without NUL or binary control bytes. */
function isText(head: Buffer): boolean {
  if (head.length === 0) return false;
  let end = head.length;
  // Drop a multi-byte sequence cut by the end of the head.
  for (let back = 1; back <= 3 && end - back >= 0; back++) {
    const b = head[end - back];
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    if (need > back) end -= back;
    break;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, end));
  } catch {
    return false;
  }
  for (let i = 0; i < end; i++) {
    const b = head[i];
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c && b !== 0x1b) return false;
    if (b === 0x7f) return false;
  }
  return true;
}
