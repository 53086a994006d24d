import { promisify } from 'node:util';
import zlib from 'node:zlib';

const inflateRaw = promisify(zlib.inflateRaw);

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

/** A zip that cannot be read (bad or missing central directory, unsupported feature, bomb). */
export class ZipError extends Error {
  override name = 'ZipError';
}

/**
 * A small reader for OOXML packages held in memory: the central directory is read from the end, and
 * only the entries asked for are inflated (asynchronously, off the main thread, with a size cap, so
 * a zip bomb fails instead of filling memory). No ZIP64, no encryption (OOXML files need neither).
 */
export class ZipReader {
  readonly entries = new Map<string, ZipEntry>();

  constructor(private readonly buf: Buffer) {
    const eocd = findEndOfCentralDirectory(buf);
    const count = buf.readUInt16LE(eocd + 10);
    let at = buf.readUInt32LE(eocd + 16);
    for (let i = 0; i < count; i++) {
      if (at + 46 > buf.length || buf.readUInt32LE(at) !== 0x02014b50) throw new ZipError('corrupt zip: bad central directory entry');
      const compressedSize = buf.readUInt32LE(at + 20);
      const size = buf.readUInt32LE(at + 24);
      const nameLength = buf.readUInt16LE(at + 28);
      const extraLength = buf.readUInt16LE(at + 30);
      const commentLength = buf.readUInt16LE(at + 32);
      const localHeaderOffset = buf.readUInt32LE(at + 42);
      if (compressedSize === 0xffffffff || size === 0xffffffff || localHeaderOffset === 0xffffffff) throw new ZipError('ZIP64 archives are not supported');
      const name = buf.toString('utf8', at + 46, at + 46 + nameLength);
      this.entries.set(name, { name, method: buf.readUInt16LE(at + 10), compressedSize, size, localHeaderOffset });
      at += 46 + nameLength + extraLength + commentLength;
    }
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Inflates one entry; null when absent. Refuses entries that inflate to more than `maxBytes`. */
  async read(name: string, maxBytes: number): Promise<Buffer | null> {
    const entry = this.entries.get(name);
    if (!entry) return null;
    if (entry.size > maxBytes) throw new ZipError(`${name} inflates to ${entry.size} bytes, more than the ${maxBytes} allowed`);
    const at = entry.localHeaderOffset;
    if (at + 30 > this.buf.length || this.buf.readUInt32LE(at) !== 0x04034b50) throw new ZipError(`corrupt zip: bad local header of ${name}`);
    const start = at + 30 + this.buf.readUInt16LE(at + 26) + this.buf.readUInt16LE(at + 28);
    const data = this.buf.subarray(start, start + entry.compressedSize);
    if (data.length < entry.compressedSize) throw new ZipError(`corrupt zip: ${name} is truncated`);
    if (entry.method === 0) return Buffer.from(data);
    if (entry.method !== 8) throw new ZipError(`${name}: compression method ${entry.method} is not supported`);
    try {
      return await inflateRaw(data, { maxOutputLength: Math.max(1, maxBytes) });
    } catch (err) {
      throw new ZipError(`corrupt zip: ${name} does not inflate (${(err as Error).message})`);
    }
  }

  async text(name: string, maxBytes: number): Promise<string | null> {
    const data = await this.read(name, maxBytes);
    return data ? data.toString('utf8') : null;
  }
}

function findEndOfCentralDirectory(buf: Buffer): number {
  const stop = Math.max(0, buf.length - 22 - 0xffff);
  for (let at = buf.length - 22; at >= stop; at--) {
    if (buf.readUInt32LE(at) === 0x06054b50) return at;
  }
  throw new ZipError('not a zip archive, or truncated: no end of central directory');
}
