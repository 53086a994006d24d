import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { assertResultName, assertUploadId, contentTypeOf, isResultName, type ByteRange, type ResultBody, type ResultFile, type ResultStore } from './types.js';

/**
 * Results as files: `<dir>/<uploadId>/<name>` (the runtime uses `DATA_DIR/results`). A write goes to a
 * temporary file in the same folder, is fsynced and renamed over the name, so readers never see half a
 * file. Temporary files start with `.` and are never listed.
 */
export class FileResultStore implements ResultStore {
  constructor(private readonly dir: string) {}

  private folder(uploadId: string): string {
    assertUploadId(uploadId);
    return path.join(this.dir, uploadId);
  }

  private file(uploadId: string, name: string): string {
    assertResultName(name);
    return path.join(this.folder(uploadId), name);
  }

  async put(uploadId: string, name: string, body: ResultBody): Promise<ResultFile> {
    const target = this.file(uploadId, name);
    await fsp.mkdir(path.dirname(target), { recursive: true });
    const tmp = path.join(path.dirname(target), `.${name}.${randomUUID()}.tmp`);
    try {
      if (Buffer.isBuffer(body)) {
        await fsp.writeFile(tmp, body, { flush: true });
      } else {
        await pipeline(fs.createReadStream(body.file), fs.createWriteStream(tmp, { flush: true }));
      }
      await fsp.rename(tmp, target);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    const { size } = await fsp.stat(target);
    return { name, contentType: contentTypeOf(name), size };
  }

  async head(uploadId: string, name: string): Promise<ResultFile | null> {
    try {
      const stat = await fsp.stat(this.file(uploadId, name));
      return stat.isFile() ? { name, contentType: contentTypeOf(name), size: stat.size } : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async get(uploadId: string, name: string, range?: ByteRange, signal?: AbortSignal) {
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(this.file(uploadId, name), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const { size } = await handle.stat();
    const stream = handle.createReadStream({ start: range?.start, end: range?.end, signal } as Parameters<typeof handle.createReadStream>[0]);
    return { file: { name, contentType: contentTypeOf(name), size }, stream };
  }

  async list(uploadId: string): Promise<ResultFile[]> {
    let names: string[];
    try {
      names = await fsp.readdir(this.folder(uploadId));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const files: ResultFile[] = [];
    for (const name of names.filter(isResultName).sort()) {
      const file = await this.head(uploadId, name);
      if (file) files.push(file);
    }
    return files;
  }

  async delete(uploadId: string, name: string): Promise<void> {
    await fsp.rm(this.file(uploadId, name), { force: true });
  }

  async remove(uploadId: string): Promise<void> {
    // A job still writing a result can add a file while the folder is emptied (ENOTEMPTY): retry.
    await fsp.rm(this.folder(uploadId), { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
  }

  locationOf(uploadId: string): string {
    return `${pathToFileURL(this.folder(uploadId)).href}/`;
  }
}
