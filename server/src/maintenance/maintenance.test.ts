/**
 * The maintenance job on the embedded default: a real SQLite catalogue, file storage and the COLD_DIR
 * tier. Policies delete and move files; a run stopped between any two steps of a move (as a killed node
 * would) is finished by the next run with nothing lost and no location left dangling; two schedules
 * sharing a lease table and a status store (two workers) run each slot once.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStatusStore, LocalJobLeases, silentLogger, startRuntime, parseConfig as parseProcessorsConfig, type Runtime } from '@tus-edge/processors';
import { createCatalogue } from '../catalogue/index.js';
import type { Catalogue } from '../catalogue/types.js';
import { parsePolicies } from '../config/lifecycle.js';
import { FileStorage } from '../storage/file-storage.js';
import { FileTiers } from '../tiers/file-tiers.js';
import { maintenanceCounter, MOVE_JOURNAL, runMaintenance, type MaintenanceDeps } from './apply.js';
import { MaintenanceProcessor } from './processor.js';
import { MaintenanceSchedule } from './schedule.js';

const dirs: string[] = [];
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const HOUR = 3_600_000;

async function setup(policies: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'maintenance-'));
  dirs.push(dir);
  const catalogue = createCatalogue({ kind: 'sqlite', file: path.join(dir, 'catalogue.db') });
  closers.push(() => catalogue.close());
  await catalogue.migrate();
  const storage = new FileStorage({ directory: path.join(dir, 'uploads'), fsync: false });
  const tiers = new FileTiers({ storage, coldDir: path.join(dir, 'cold'), fsync: false });
  const registry = new Registry();
  const deps: MaintenanceDeps = {
    catalogue, storage, tiers, policies: parsePolicies(policies), logger: silentLogger, counter: maintenanceCounter(registry),
    removeFile: async (scope, fileId) => {
      for (const location of (await catalogue.remove(scope, fileId))?.freed ?? []) {
        await storage.remove(location);
        await tiers.removeCold(location);
      }
    },
    drainDeletes: async () => {
      const owed = await catalogue.pendingDeletes(100);
      for (const item of owed) {
        if (item.kind === 'bytes') {
          await storage.remove(item.ref);
          await tiers.removeCold(item.ref);
        }
        await catalogue.deleteDone(item);
      }
      return owed.length;
    },
  };
  return { dir, catalogue, storage, tiers, registry, deps };
}

let seq = 0;
/** A finished upload stored and handed over to the catalogue, `ageMs` old. */
async function upload(catalogue: Catalogue, storage: FileStorage, options: { type: string; tags?: string[]; ageMs: number; data?: Buffer; now: Date }) {
  const id = `up${seq++}x${randomBytes(3).toString('hex')}`;
  const data = options.data ?? randomBytes(20_000);
  await storage.create(id);
  await storage.write(id, 0, Readable.from([data]), { limit: data.length });
  const at = new Date(options.now.getTime() - options.ageMs).toISOString();
  const { file } = await catalogue.ingest({
    uploadId: id, tenant: '', owner: '', name: `${id}.bin`, key: null, mediaType: options.type, size: data.length,
    metadata: {}, tags: options.tags ?? [], createdAt: at, finishedAt: at,
  });
  return { id, data, file };
}

async function bytesOf(tiers: FileTiers, key: string, storageClass: 'standard' | 'cold'): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await tiers.read(key, storageClass)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('maintenance: policies through the catalogue (SQLite, file storage, COLD_DIR)', () => {
  it('deletes by age, moves unread files to cold, leaves the rest; counts by action and policy', async () => {
    const now = new Date();
    const { catalogue, storage, tiers, registry, deps, dir } = await setup('scratch: tag=tmp delete=1h; videos: type=video/* cold=30s');
    const old = await upload(catalogue, storage, { type: 'text/plain', tags: ['tmp'], ageMs: 2 * HOUR, now });
    const young = await upload(catalogue, storage, { type: 'text/plain', tags: ['tmp'], ageMs: 60_000, now });
    const video = await upload(catalogue, storage, { type: 'video/mp4', ageMs: 60_000, now });
    const readVideo = await upload(catalogue, storage, { type: 'video/webm', ageMs: 60_000, now });
    await catalogue.touch(readVideo.file.id, new Date(now.getTime() - 5_000));
    const other = await upload(catalogue, storage, { type: 'image/png', ageMs: 2 * HOUR, now });

    expect(await runMaintenance(deps, now)).toEqual({ deleted: 1, moved: 1, resumed: 0, failed: 0 });
    const scope = { tenant: '', owner: '' };
    expect(await catalogue.get(scope, old.file.id)).toBeUndefined();
    expect(fs.existsSync(path.join(dir, 'uploads', old.id))).toBe(false);
    expect(await catalogue.get(scope, young.file.id)).toBeDefined();
    expect((await catalogue.get(scope, video.file.id))?.storageClass).toBe('cold');
    expect(fs.existsSync(path.join(dir, 'uploads', video.id))).toBe(false);
    expect(sha(await bytesOf(tiers, video.id, 'cold'))).toBe(sha(video.data));
    expect((await catalogue.get(scope, readVideo.file.id))?.storageClass).toBe('standard');
    expect((await catalogue.get(scope, other.file.id))?.storageClass).toBe('standard');
    const text = await registry.metrics();
    expect(text).toContain('tus_maintenance_actions_total{action="delete",policy="scratch"} 1');
    expect(text).toContain('tus_maintenance_actions_total{action="cold",policy="videos"} 1');
    // A second run finds nothing more to do.
    expect(await runMaintenance(deps, now)).toEqual({ deleted: 0, moved: 0, resumed: 0, failed: 0 });
  });

  it('the first policy that names an action decides it for a file', async () => {
    const now = new Date();
    const { catalogue, storage, deps } = await setup('keep: tag=keep delete=30d; all: type=*/* delete=1h');
    const kept = await upload(catalogue, storage, { type: 'text/plain', tags: ['keep'], ageMs: 2 * HOUR, now });
    const gone = await upload(catalogue, storage, { type: 'text/plain', ageMs: 2 * HOUR, now });
    expect((await runMaintenance(deps, now)).deleted).toBe(1);
    expect(await catalogue.get({ tenant: '', owner: '' }, kept.file.id)).toBeDefined();
    expect(await catalogue.get({ tenant: '', owner: '' }, gone.file.id)).toBeUndefined();
  });

  it.each(['journaled', 'copied', 'recorded', 'dropped'] as const)(
    'a run killed after the move step "%s" is finished by the next run: bytes readable throughout, no dangling copy',
    async (killedAfter) => {
      const now = new Date();
      const { catalogue, storage, tiers, deps, dir } = await setup('videos: type=video/* cold=30s');
      const video = await upload(catalogue, storage, { type: 'video/mp4', ageMs: 60_000, now });
      const crash = new Error('killed');
      const dying: MaintenanceDeps = { ...deps, onStep: (step) => { if (step === killedAfter) throw crash; } };
      // The killed run: the failure is counted, the journal stays.
      const first = await runMaintenance(dying, now);
      expect(first.failed).toBe(1);
      if (killedAfter !== 'dropped') expect(await catalogue.getMeta(MOVE_JOURNAL)).toContain(video.file.id);
      // Whatever the catalogue says now can be read.
      const recorded = (await catalogue.get({ tenant: '', owner: '' }, video.file.id))!.storageClass;
      expect(sha(await bytesOf(tiers, video.id, recorded))).toBe(sha(video.data));

      const second = await runMaintenance(deps, now);
      expect(second.resumed).toBe(1);
      expect((await catalogue.get({ tenant: '', owner: '' }, video.file.id))?.storageClass).toBe('cold');
      expect(sha(await bytesOf(tiers, video.id, 'cold'))).toBe(sha(video.data));
      expect(fs.existsSync(path.join(dir, 'uploads', video.id))).toBe(false);
      expect(fs.readdirSync(path.join(dir, 'cold'))).toEqual([video.id]);
      expect(await catalogue.getMeta(MOVE_JOURNAL)).toBe('');
    },
  );

  it('two workers sharing leases and a status store (two nodes): each slot runs once', async () => {
    const now = new Date();
    const { catalogue, storage, deps, dir } = await setup('scratch: tag=tmp delete=1h');
    for (let i = 0; i < 3; i++) await upload(catalogue, storage, { type: 'text/plain', tags: ['tmp'], ageMs: 2 * HOUR, now });
    const status = new FileStatusStore(path.join(dir, 'processing'));
    const leaseTable = new Map();
    const runs: number[] = [];
    const runtimes: Runtime[] = [];
    const config = { ...parseProcessorsConfig({ DATA_DIR: dir }), ackWaitMs: 2_000, kinds: [] };
    for (let node = 0; node < 2; node++) {
      const processor = new MaintenanceProcessor({ ...deps, onStep: undefined });
      const run = processor.run.bind(processor);
      processor.run = async (event, ctx) => {
        runs.push(node);
        // Long enough for the other node's delivery of the same slot to find the lease held.
        await new Promise((r) => setTimeout(r, 300));
        return run(event, ctx);
      };
      runtimes.push(await startRuntime({
        config, processors: [processor], source: new MaintenanceSchedule({ intervalMs: 60 * HOUR, nodeName: `n${node}` }),
        status, leases: new LocalJobLeases(leaseTable), registry: new Registry(), http: false, logger: silentLogger,
      }));
    }
    closers.push(async () => Promise.all(runtimes.map((r) => r.stop())));
    const slot = `maintenance.${Math.floor(Date.now() / (60 * HOUR))}`;
    const deadline = Date.now() + 20_000;
    while ((await status.get(slot))?.jobs.maintenance?.state !== 'done' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const done = await status.get(slot);
    expect(done?.jobs.maintenance?.state).toBe('done');
    expect(done?.jobs.maintenance?.result).toMatchObject({ deleted: 3 });
    // The other node's delivery comes back after the ack wait and settles as a duplicate, never running.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(runs).toHaveLength(1);
  }, 40_000);
});
