import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';

/** Writes `data` to `file` atomically (temp file + rename); with `durable`, fsyncs file and directory. */
export async function writeFileAtomic(file: string, data: string, durable: boolean): Promise<void> {
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  const fh = await fs.open(tmp, 'w');
  try {
    await fh.writeFile(data);
    if (durable) await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
  if (durable) await syncDir(file.slice(0, file.lastIndexOf('/')));
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** `true` if the path exists. */
export async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

/** Directory entries ending in `.json`, or `[]` when the directory does not exist. */
export async function jsonFiles(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export const isErrno = (err: unknown, code: string) => (err as NodeJS.ErrnoException | undefined)?.code === code;
