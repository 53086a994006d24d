import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyError, ProcessingError } from '../errors.js';
import type { UploadLocation } from '../pipeline/event.js';
import { silentLogger } from '../logger.js';
import { makeEvent } from '@tus-edge/testkit';
import { tempDir } from '@tus-edge/testkit';
import { FileResultStore } from '../results/file.js';
import { uploadResults } from '../results/types.js';
import { FingerprintProcessor } from './fingerprint.js';
import type { ProcessorContext } from './types.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

function ctx(open: (l: UploadLocation) => Promise<Readable>, progress: number[] = []): ProcessorContext {
  return {
    working: () => undefined,
    progress: (f) => progress.push(f),
    logger: silentLogger,
    signal: new AbortController().signal,
    openStream: open,
    attempt: 1,
    results: uploadResults(new FileResultStore(path.join(dir, 'results')), 'fingerprint-test'),
    waitFor: async () => ({}),
  };
}
const openFile = async (l: UploadLocation) => {
  if (l.kind !== 'file') throw new Error('not a file');
  return (await fs.open(l.path, 'r')).createReadStream();
};

describe('FingerprintProcessor', () => {
  it('streams a file: sha256, size, sniffed type, declared type check', async () => {
    const data = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(20 * 1024 * 1024, 7)]);
    const file = path.join(dir, 'doc.bin');
    await fs.writeFile(file, data);
    const progress: number[] = [];
    const out = await new FingerprintProcessor().run(
      makeEvent({ size: data.length, filePath: file, metadata: { filetype: 'image/png', filename: 'x.png' } }),
      ctx(openFile, progress),
    );
    expect(out.result).toEqual({
      sha256: createHash('sha256').update(data).digest('hex'),
      size: data.length,
      mime: 'application/pdf',
      ext: 'pdf',
      declaredType: 'image/png',
      declaredTypeMatches: false,
      sha256Source: 'read',
    });
    expect(progress.length).toBeGreaterThanOrEqual(2);
  });

  it('takes the sha256 the server hashed while receiving and reads only the head', async () => {
    const chunks = [Buffer.from('%PDF-1.7\n'), Buffer.alloc(64 * 1024, 1), Buffer.alloc(64 * 1024, 2), Buffer.alloc(64 * 1024, 3)];
    let served = 0;
    const stream = Readable.from((function* () {
      for (const c of chunks) {
        served++;
        yield c;
      }
    })());
    const sha256 = 'ab'.repeat(32);
    const out = await new FingerprintProcessor().run(makeEvent({ size: 9 + 3 * 65536, location: { kind: 's3', bucket: 'b', key: 'k' }, sha256 }), ctx(async () => stream));
    expect(out.result).toMatchObject({ sha256, size: 9 + 3 * 65536, mime: 'application/pdf', sha256Source: 'server' });
    expect(served).toBeLessThan(chunks.length);
  });

  it('reads S3 locations through the injected openStream', async () => {
    const seen: UploadLocation[] = [];
    const out = await new FingerprintProcessor().run(
      makeEvent({ size: 11, location: { kind: 's3', bucket: 'b', key: 'k' }, metadata: { contentType: 'text/plain; charset=utf-8' } }),
      ctx(async (l) => {
        seen.push(l);
        return Readable.from([Buffer.from('hello '), Buffer.from('world')]);
      }),
    );
    expect(seen).toEqual([{ kind: 's3', bucket: 'b', key: 'k' }]);
    expect(out.result).toMatchObject({ sha256: createHash('sha256').update('hello world').digest('hex'), mime: 'text/plain', declaredTypeMatches: true });
  });

  it('a missing object is a permanent error; a short one is retryable', async () => {
    const missing = await new FingerprintProcessor().run(makeEvent({ filePath: path.join(dir, 'nope') }), ctx(openFile)).catch((e) => classifyError(e));
    expect(missing).toMatchObject({ code: 'OBJECT_NOT_FOUND', retryable: false });
    const file = path.join(dir, 'short');
    await fs.writeFile(file, 'abc');
    const short = await new FingerprintProcessor().run(makeEvent({ size: 10, filePath: file }), ctx(openFile)).catch((e) => e);
    expect(short).toBeInstanceOf(ProcessingError);
    expect(short).toMatchObject({ code: 'SIZE_MISMATCH', retryable: true });
  });
});
