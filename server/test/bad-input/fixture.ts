/**
 * Shared fixture for the bad-input tests: one server per test file (MAX_SIZE 4 MiB), a victim
 * directory outside DATA_DIR, and helpers that send raw requests and snapshot every file byte for byte.
 */
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { startTestServer, tempDir, type TestServer } from '../harness.js';
import { JOURNAL_NAME } from '../../src/storage/durable/background-flush.js';
import { WatermarkJournal } from '../../src/storage/durable/journal.js';

import { httpRequest, OCTET, openRequest, sha256, TUS, type HttpReply } from '@tus-edge/testkit';

export { OCTET, sha256, TUS };
export const MAX_SIZE = 4 * 1024 * 1024;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Live binding: set by the hooks of {@link useBadInputServer}. */
export let server: TestServer;
export let victimDir: string;

export type Res = HttpReply;

/** One request with node:http; `path` is sent exactly as given (no URL normalisation). */
export function send(method: string, urlPath: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<Res> {
  return httpRequest({ host: '127.0.0.1', port: server.port, path: urlPath }, method, headers, body);
}

/** Asserts the status and a JSON error body `{"error":{"code","message"}}` whose code is one of `codes`. */
export function expectError(res: Res, status: number | number[], codes: string | string[]): string {
  const statuses = Array.isArray(status) ? status : [status];
  const allowed = Array.isArray(codes) ? codes : [codes];
  const text = res.body.toString();
  expect(statuses, `status ${res.status}, body ${JSON.stringify(text)}`).toContain(res.status);
  expect(res.headers['content-type'] ?? '', `content-type of a ${res.status} with body ${JSON.stringify(text)}`).toMatch(/^application\/json/);
  let parsed: { error?: { code?: unknown; message?: unknown } };
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`error body is not JSON (status ${res.status}): ${JSON.stringify(text)}`);
  }
  expect(typeof parsed.error?.message).toBe('string');
  expect(allowed, `code in ${text}`).toContain(parsed.error?.code);
  return parsed.error!.code as string;
}

/** Every file under a directory with the sha256 of its bytes, except those under the `skip` paths (relative). */
export async function snapshot(dir: string, skip: string[] = []): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const entry of await fsp.readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, entry.name);
      if (skip.includes(path.relative(dir, p))) continue;
      if (entry.isDirectory()) await walk(p);
      else out[path.relative(dir, p)] = sha256(await fsp.readFile(p));
    }
  };
  await walk(dir);
  return out;
}

/**
 * The background flush's state (`DATA_DIR/durable/`: which bytes of each unfinished upload are known
 * to be on the disk) moves on its own clock, as earlier writes get flushed, so it is not part of what a
 * refused request must leave unchanged. What it must always say is checked instead: it never gives an
 * upload more bytes than its file holds (else a reboot would keep bytes that may not be there).
 */
export const DURABLE_STATE = 'durable';

async function expectWatermarksWithinFiles(): Promise<void> {
  const journal = new WatermarkJournal(path.join(server.dataDir, DURABLE_STATE, JOURNAL_NAME));
  await journal.load();
  for (const [id, watermark] of journal.entries) {
    const size = await fsp.stat(path.join(server.dataDir, 'uploads', id)).then((s) => s.size, () => undefined);
    if (size === undefined) continue; // removed: recovery skips it
    expect(watermark, `durable watermark of ${id}`).toBeLessThanOrEqual(size);
  }
}

/**
 * SQLite's shared-memory index of the catalogue's write-ahead log: readers update it too, so a refused
 * request that only looked an id up moves it. The catalogue's content (the database and its log) is
 * compared byte for byte like everything else.
 */
const CATALOGUE_WAL_INDEX = 'catalogue.db-shm';

/**
 * Snapshot of the data directory (every upload file, record and the catalogue, byte for byte; the
 * durable state is checked, see {@link DURABLE_STATE}) and of the victim directory outside it.
 */
export async function world() {
  await expectWatermarksWithinFiles();
  return { data: await snapshot(server.dataDir, [DURABLE_STATE, CATALOGUE_WAL_INDEX]), victim: await snapshot(victimDir) };
}

export const tusPath = () => new URL(server.tusUrl).pathname;
export const idOf = (location: string) => location.split('/').pop()!;
export const uploadFile = (id: string) => path.join(server.dataDir, 'uploads', id);

export async function create(length: number | 'defer', metadata?: string): Promise<{ id: string; path: string }> {
  const headers: Record<string, string> = { ...TUS, ...(length === 'defer' ? { 'Upload-Defer-Length': '1' } : { 'Upload-Length': String(length) }) };
  if (metadata) headers['Upload-Metadata'] = metadata;
  const res = await send('POST', tusPath(), headers);
  expect(res.status).toBe(201);
  const location = String(res.headers.location);
  return { id: idOf(location), path: new URL(location).pathname };
}

export async function patch(urlPath: string, offset: number, body: Buffer, extra: Record<string, string> = {}): Promise<Res> {
  return send('PATCH', urlPath, { ...TUS, 'Content-Type': OCTET, 'Upload-Offset': String(offset), ...extra }, body);
}

export async function headOffset(urlPath: string): Promise<number> {
  const res = await send('HEAD', urlPath, TUS);
  expect(res.status).toBe(200);
  return Number(res.headers['upload-offset']);
}

/** An upload of `length` bytes that already holds `written` bytes of `data`. */
export async function partialUpload(length: number, written: number) {
  const data = randomBytes(length);
  const up = await create(length);
  if (written > 0) expect((await patch(up.path, 0, data.subarray(0, written))).status).toBe(204);
  return { ...up, data };
}

/** Asserts that nothing changed since `before`, and that the upload still holds `data[0, offset)`. */
export async function expectUnchanged(before: Awaited<ReturnType<typeof world>>, upload?: { id: string; path: string; data: Buffer }, offset?: number) {
  expect(await world()).toEqual(before);
  if (upload && offset !== undefined) {
    expect(await headOffset(upload.path)).toBe(offset);
    expect((await fsp.readFile(uploadFile(upload.id))).equals(upload.data.subarray(0, offset))).toBe(true);
  }
}

/** A PATCH whose body the test writes piece by piece; `response` is 'closed' when the connection broke. */
export function openPatch(urlPath: string, offset: number, headers: Record<string, string>) {
  const { req, reply } = openRequest({ host: '127.0.0.1', port: server.port, path: urlPath }, 'PATCH', { ...TUS, 'Content-Type': OCTET, 'Upload-Offset': String(offset), ...headers });
  const response: Promise<Res | 'closed'> = reply.catch(() => 'closed' as const);
  return { req, response };
}

export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, sleep(ms).then(() => Promise.reject(new Error(`${what}: no answer within ${ms} ms`)))]);
}

/** Registers the server start/stop hooks for the calling test file. */
export function useBadInputServer(): void {
  beforeAll(async () => {
    // No in-process processors: the tests compare snapshots of the whole data dir.
    server = await startTestServer({ MAX_SIZE: String(MAX_SIZE), PROCESSORS_IN_PROCESS: 'false' });
    victimDir = await tempDir('tus-victim-');
    await fsp.writeFile(path.join(victimDir, 'victim'), 'victim');
    await fsp.writeFile(path.join(victimDir, 'victim.json'), '{"id":"victim"}');
    // A file inside DATA_DIR but outside uploads/ and records/.
    await fsp.writeFile(path.join(server.dataDir, 'secret'), 'secret');
  });

  afterAll(async () => {
    await server?.close();
    if (victimDir) await fsp.rm(victimDir, { recursive: true, force: true });
  });

}
