import { Counter, type Registry } from 'prom-client';
import type { Catalogue, CatalogueFile, LifecycleRule, OwnerScope } from '../catalogue/types.js';
import { policyMatches, type FilePolicy } from '../config/lifecycle.js';
import type { Logger } from '../ops/logger.js';
import type { UploadStorage } from '../storage/types.js';
import type { ObjectTiers } from '../tiers/types.js';

/** Files handled per policy and action in one run; the next run takes the rest. */
export const BATCH = 500;
/** The catalogue meta key journaling the move in progress (one at a time: one node runs maintenance). */
export const MOVE_JOURNAL = 'maintenance.move';

/** What a move to cold journals before its first step, so the next run can finish it. */
interface MoveIntent {
  fileId: string;
  tenant: string;
  owner: string;
  location: string;
  size: number;
}

export interface MaintenanceDeps {
  catalogue: Catalogue;
  storage: UploadStorage;
  tiers: ObjectTiers;
  policies: readonly FilePolicy[];
  /**
   * Removes a file with its versions and everything of their uploads (results, status, records), and
   * the bytes whose last reference went with it, in both classes (the uploads domain's `removeFile`).
   */
  removeFile(scope: OwnerScope, fileId: string): Promise<unknown>;
  /**
   * Finishes the clean-up earlier deletions owe (the catalogue's durable to-delete list: bytes, records,
   * results of files removed by a node killed before it cleaned up); returns how many entries were done.
   */
  drainDeletes(): Promise<number>;
  logger: Logger;
  counter: MaintenanceCounter;
  /** Told between the steps of a move (tests use it to stop a run where a crash would). */
  onStep?: (step: 'journaled' | 'copied' | 'recorded' | 'dropped', fileId: string) => void;
}

/** What one run did, by action. */
export interface MaintenanceSummary {
  deleted: number;
  moved: number;
  /** A move a previous run left unfinished and this one completed. */
  resumed: number;
  failed: number;
}

/** `tus_maintenance_actions_total{action,policy}`: what the maintenance job did (action `delete`, `cold`, `resume`, `drain`, `failed`). */
export type MaintenanceCounter = Counter<'action' | 'policy'>;

/** Registers the maintenance counter on `registry` (policies are configuration: the label set is bounded). */
export function maintenanceCounter(registry: Registry): MaintenanceCounter {
  const existing = registry.getSingleMetric('tus_maintenance_actions_total');
  if (existing) return existing as MaintenanceCounter;
  return new Counter({
    name: 'tus_maintenance_actions_total',
    help: 'What the maintenance job did to files, by action (delete, cold, resume, drain, failed) and policy',
    labelNames: ['action', 'policy'] as const,
    registers: [registry],
  });
}

/**
 * One maintenance run: first finishes a move a killed run left half done, then for each policy in
 * order deletes the files past `delete=` and moves to cold those unread for `cold=`. A file is
 * handled by the first policy that matches it and names that action (later ones do not see it).
 * Deleting goes through the catalogue, which frees an object with its last reference (deduplicated
 * bytes stay while another file points at them); the freed bytes are then removed from both classes.
 */
export async function runMaintenance(deps: MaintenanceDeps, now: Date, signal?: AbortSignal): Promise<MaintenanceSummary> {
  const summary: MaintenanceSummary = { deleted: 0, moved: 0, resumed: 0, failed: 0 };
  // What a killed node's deletions still owe the storage, whichever node it was (and whichever runs this).
  const drained = await deps.drainDeletes();
  if (drained > 0) {
    deps.counter.inc({ action: 'drain', policy: '' }, drained);
    deps.logger.info('maintenance: clean-up owed by earlier deletions done', { drained });
  }
  if (await resumeMove(deps)) {
    summary.resumed++;
    deps.counter.inc({ action: 'resume', policy: '' });
  }
  const { policies } = deps;
  for (const [index, policy] of policies.entries()) {
    const earlier = policies.slice(0, index);
    if (policy.deleteAfterMs !== undefined) {
      const decidedEarlier = (f: CatalogueFile) => earlier.some((p) => p.deleteAfterMs !== undefined && policyMatches(p, fileView(f)));
      for (const file of await candidatesOf(deps.catalogue, policy, { basis: 'created', olderThanMs: policy.deleteAfterMs }, now)) {
        signal?.throwIfAborted();
        if (decidedEarlier(file)) continue;
        try {
          await deleteFile(deps, file);
          summary.deleted++;
          deps.counter.inc({ action: 'delete', policy: policy.name });
          deps.logger.info('maintenance: file deleted by policy', { policy: policy.name, file: file.id, upload: file.uploadId, size: file.size });
        } catch (err) {
          summary.failed++;
          deps.counter.inc({ action: 'failed', policy: policy.name });
          deps.logger.warn('maintenance: deletion failed; the next run tries again', { policy: policy.name, file: file.id, err: (err as Error).message });
        }
      }
    }
    if (policy.coldAfterMs !== undefined) {
      const decidedEarlier = (f: CatalogueFile) => earlier.some((p) => p.coldAfterMs !== undefined && policyMatches(p, fileView(f)));
      const rule = { basis: 'accessed', olderThanMs: policy.coldAfterMs, storageClass: 'standard' } as const;
      for (const file of await candidatesOf(deps.catalogue, policy, rule, now)) {
        signal?.throwIfAborted();
        if (decidedEarlier(file)) continue;
        try {
          await moveToCold(deps, { fileId: file.id, tenant: file.tenant, owner: file.owner, location: await locationOf(deps.catalogue, file), size: file.size });
          summary.moved++;
          deps.counter.inc({ action: 'cold', policy: policy.name });
          deps.logger.info('maintenance: file moved to cold storage by policy', { policy: policy.name, file: file.id, upload: file.uploadId, size: file.size });
        } catch (err) {
          summary.failed++;
          deps.counter.inc({ action: 'failed', policy: policy.name });
          deps.logger.warn('maintenance: move to cold failed; the next run finishes it', { policy: policy.name, file: file.id, err: (err as Error).message });
        }
      }
    }
  }
  return summary;
}

function fileView(file: CatalogueFile): { mediaType: string; tags: readonly string[] } {
  return { mediaType: file.mediaType, tags: file.tags };
}

/**
 * The catalogue's candidates for one policy and action: one query per (type, tag) pair the policy
 * names (the catalogue matches one of each), merged; then checked against the whole policy.
 */
async function candidatesOf(catalogue: Catalogue, policy: FilePolicy, rule: Omit<LifecycleRule, 'tag' | 'mediaType'>, now: Date): Promise<CatalogueFile[]> {
  const types: Array<string | undefined> = policy.types.length > 0 && !policy.types.includes('*/*') ? policy.types : [undefined];
  const tags: Array<string | undefined> = policy.tags.length > 0 ? policy.tags : [undefined];
  const found = new Map<string, CatalogueFile>();
  for (const mediaType of types) {
    for (const tag of tags) {
      for (const file of await catalogue.candidates({ ...rule, mediaType, tag }, now, BATCH)) found.set(file.id, file);
    }
  }
  return [...found.values()].filter((f) => policyMatches(policy, fileView(f)));
}

/** The storage key of a file's current bytes (its object's location; the upload id before dedup). */
async function locationOf(catalogue: Catalogue, file: CatalogueFile): Promise<string> {
  return (await catalogue.byUpload(file.uploadId))?.object.location ?? file.uploadId;
}

/** Removes a file through the catalogue (which frees an object with its last reference) and its bytes. */
async function deleteFile(deps: MaintenanceDeps, file: CatalogueFile): Promise<void> {
  await deps.removeFile({ tenant: file.tenant, owner: file.owner }, file.id);
}

/**
 * A move in three idempotent steps, journaled first: copy to cold, record the class, drop the standard
 * copy. A run killed anywhere leaves the journal; the next run repeats what is missing.
 */
async function moveToCold(deps: MaintenanceDeps, intent: MoveIntent): Promise<void> {
  await deps.catalogue.setMeta(MOVE_JOURNAL, JSON.stringify(intent));
  deps.onStep?.('journaled', intent.fileId);
  await finishMove(deps, intent, 'standard');
}

async function finishMove(deps: MaintenanceDeps, intent: MoveIntent, recorded: 'standard' | 'cold'): Promise<void> {
  if (recorded === 'standard') {
    if (!(await deps.tiers.hasCold(intent.location, intent.size))) await deps.tiers.copyToCold(intent.location, intent.size);
    deps.onStep?.('copied', intent.fileId);
    await deps.catalogue.setStorageClass(intent.fileId, 'cold');
    deps.onStep?.('recorded', intent.fileId);
  }
  await deps.tiers.dropStandard(intent.location);
  deps.onStep?.('dropped', intent.fileId);
  await deps.catalogue.setMeta(MOVE_JOURNAL, '');
}

/** Finishes the move a killed run journaled; true when there was one. */
async function resumeMove(deps: MaintenanceDeps): Promise<boolean> {
  const journal = await deps.catalogue.getMeta(MOVE_JOURNAL);
  if (!journal) return false;
  const intent = JSON.parse(journal) as MoveIntent;
  const file = await deps.catalogue.get({ tenant: intent.tenant, owner: intent.owner }, intent.fileId);
  if (!file) {
    // Deleted meanwhile: its bytes went with it (both classes); only a cold copy nobody recorded may be left.
    if (!(await deps.catalogue.byUpload(intent.location))) await deps.tiers.removeCold(intent.location);
    await deps.catalogue.setMeta(MOVE_JOURNAL, '');
    return true;
  }
  deps.logger.info('maintenance: finishing a move a previous run left unfinished', { file: intent.fileId, recorded: file.storageClass });
  await finishMove(deps, intent, file.storageClass);
  return true;
}
