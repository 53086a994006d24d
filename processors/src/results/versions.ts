import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { PreviousRun } from '../status/types.js';
import { isVersionArtifact, type ResultFile, type ResultStore } from './types.js';

/** A file of an earlier run of a kind, kept as version `n` of that kind (kinds archive at once: the kind keeps their names apart). */
export const versionName = (n: number, kind: string, name: string): string => `v${n}.${kind}.${name}`;
/** What each version of a kind was. */
export const manifestName = (kind: string): string => `versions.${kind}.json`;

/** Versions kept per kind and upload; older ones are deleted when a new one is made. */
export const MAX_RESULT_VERSIONS = 10;

/** One earlier run of a kind, kept when a processing request ran the kind again. */
export interface ResultVersion {
  version: number;
  kind: string;
  /** The run that produced these files: the upload's event id, or a request's job id. */
  runId: string;
  /** The request whose run replaced them. */
  supersededBy: string;
  archivedAt: string;
  finishedAt?: string;
  /** What that run recorded (generate: its prompt template; the options it ran with). */
  template?: string;
  options?: Record<string, unknown>;
  /** The files under their current names; each is stored as `v<version>.<kind>.<name>`. */
  files: ResultFile[];
}

interface Manifest {
  version: 1;
  kind: string;
  versions: ResultVersion[];
  /** Request runs that have archived (with or without files to keep): a retry of one archives nothing. */
  archivedBy: string[];
}

async function readJson<T>(store: ResultStore, uploadId: string, name: string, signal?: AbortSignal): Promise<T | null> {
  const got = await store.get(uploadId, name, undefined, signal);
  if (!got) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of got.stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
}

/** The versions of `kind` for an upload, oldest first. */
export async function versionsOfKind(store: ResultStore, uploadId: string, kind: string): Promise<ResultVersion[]> {
  return (await readJson<Manifest>(store, uploadId, manifestName(kind)))?.versions ?? [];
}

/** Every kept version holding a file named `name` (its current name), oldest first. */
export async function versionsOf(store: ResultStore, uploadId: string, name: string): Promise<ResultVersion[]> {
  const manifests = (await store.list(uploadId)).filter((f) => /^versions\.[a-z0-9-]+\.json$/.test(f.name));
  const found: ResultVersion[] = [];
  for (const m of manifests) {
    const manifest = await readJson<Manifest>(store, uploadId, m.name);
    for (const v of manifest?.versions ?? []) if (v.files.some((f) => f.name === name)) found.push(v);
  }
  return found.sort((a, b) => a.archivedAt.localeCompare(b.archivedAt) || a.version - b.version);
}

/**
 * Before a processing request's run of `kind` stores anything: the kind's current results (the names
 * `owns` claims) are copied to `v<n>.<kind>.<name>` and removed, and `versions.<kind>.json` records version
 * `n` with what that run was (`previous`, from the status the request replaced). Then the run finds
 * none of the earlier files (no step is skipped for a stored result of another run) and its results
 * land where clients read them. Idempotent: a retry of the same run finds its version recorded and
 * touches nothing (its own files may already be stored); a crash half way copies the rest again.
 * The {@link MAX_RESULT_VERSIONS} newest versions of a kind are kept. Returns the version made, or
 * null when there was nothing to keep.
 */
export async function archiveRun(
  store: ResultStore, uploadId: string, kind: string, owns: (name: string) => boolean,
  run: { runId: string; previous?: PreviousRun }, signal?: AbortSignal,
): Promise<ResultVersion | null> {
  const manifest: Manifest = { version: 1, kind, versions: [], archivedBy: [], ...(await readJson<Manifest>(store, uploadId, manifestName(kind), signal)) };
  if (manifest.archivedBy.includes(run.runId)) return null;
  const n = Math.max(0, ...manifest.versions.map((v) => v.version)) + 1;
  const all = await store.list(uploadId);
  const current = all.filter((f) => !isVersionArtifact(f.name) && owns(f.name));
  for (const file of current) {
    await copy(store, uploadId, file.name, versionName(n, kind, file.name), signal);
    await store.delete(uploadId, file.name);
  }
  // Files copied by an attempt that died before recording the version are part of it too.
  const prefix = versionName(n, kind, '');
  const kept = (await store.list(uploadId)).filter((f) => f.name.startsWith(prefix)).map((f) => ({ ...f, name: f.name.slice(prefix.length) }));
  manifest.archivedBy = [...manifest.archivedBy.slice(-99), run.runId];
  const previous = run.previous;
  const version: ResultVersion | null = kept.length === 0 ? null : {
    version: n, kind, runId: previous?.runId ?? 'unknown', supersededBy: run.runId, archivedAt: new Date().toISOString(),
    ...(previous?.finishedAt && { finishedAt: previous.finishedAt }),
    ...(previous?.template && { template: previous.template }),
    ...(previous?.options && { options: previous.options }),
    files: kept,
  };
  if (version) manifest.versions.push(version);
  // Only the newest versions stay: the manifest forgets the others first, then their files go.
  const dropped = manifest.versions.splice(0, Math.max(0, manifest.versions.length - MAX_RESULT_VERSIONS));
  await store.put(uploadId, manifestName(kind), Buffer.from(JSON.stringify(manifest, null, 1)));
  for (const old of dropped) for (const f of old.files) await store.delete(uploadId, versionName(old.version, kind, f.name));
  return version;
}

/** Copies one result to another name through a temporary file (results may be large). */
async function copy(store: ResultStore, uploadId: string, from: string, to: string, signal?: AbortSignal): Promise<void> {
  const got = await store.get(uploadId, from, undefined, signal);
  if (!got) return;
  const tmp = path.join(os.tmpdir(), `version-${randomUUID()}`);
  try {
    await pipeline(got.stream, fs.createWriteStream(tmp), { signal });
    await store.put(uploadId, to, { file: tmp });
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}
