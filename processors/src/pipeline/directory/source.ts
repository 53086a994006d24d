import { randomBytes } from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseUploadCompletedEvent, type UploadCompletedEvent } from '../event.js';
import { LANES, type DeadLetterInfo, type DeadLetterRecord, type Job, type JobSource, type Lane, type PendingCount, type SourceStartOptions } from '../job-source.js';
import { Waiters } from '../../common/waiters.js';
import type { Logger } from '../../logger.js';
import { exists, isErrno, jsonFiles, syncDir, writeFileAtomic } from './fsutil.js';

export interface DirectorySourceOptions {
  /** The outbox root, `DATA_DIR/events` (the server writes `pending/<eventId>.json` there). */
  dir: string;
  logger: Logger;
  /** A claimed job whose owner died, or that got no heartbeat for this long, is queued again. */
  ackWaitMs: number;
  /** Rescan interval backing up the directory watcher (default 1000 ms). */
  pollMs?: number;
  /** `done/` markers (the dedup record) older than this are pruned at start (default 7 days). */
  doneRetentionMs?: number;
}

/** A job file in `queue/<lane>/` or `processing/`. */
interface JobFile {
  version: 1;
  kind: string;
  lane: Lane;
  event: UploadCompletedEvent;
  persistedAt: string;
  /** Deliveries so far (incremented when claimed). */
  attempts: number;
  /** Epoch ms before which the job must not start (retry backoff). */
  notBefore: number;
  /** The process holding the claim. */
  owner?: { pid: number; boot: string };
  /** Put back by the operator after a dead letter (see admin.ts). */
  retried?: boolean;
}

const jobName = (eventId: string, kind: string) => `${eventId}~${kind}.json`;

/**
 * Boot ids of the sources running in this process. A claim made under our PID is alive only if its
 * boot id is one of them: an earlier process with our PID (PID 1 in a container) is gone, but another
 * source of this process (two runtimes in one process, as the tests run them) is not.
 */
const liveBoots = new Set<string>();

/**
 * Embedded {@link JobSource} over the durable directory outbox `DATA_DIR/events`:
 *
 * ```
 * pending/<eventId>.json            events, written (fsync + rename) by DirectoryOutbox (outbox.ts)
 * dispatching/<eventId>@<pid>.<boot>.json  an event claimed (renamed) by the source dispatching it
 * queue/<lane>/<eventId>~<kind>.json jobs waiting (with attempts and a not-before time)
 * processing/<eventId>~<kind>.json  claimed jobs (atomic rename out of queue/)
 * done/<eventId>~<kind>             markers of finished jobs: a re-published event makes no new job
 * dead/<eventId>~<kind>.json        dead-letter records with the reason
 * ```
 *
 * Dispatch writes the job files durably, then deletes the event; a crash in between dispatches the
 * event again and existing jobs are not duplicated. Claiming renames the file into `processing/` and
 * increments its persisted attempt count; ack writes the `done/` marker and deletes it; retry moves it
 * back with a not-before time; dead-letter writes the record and deletes it. On start (and every ack
 * wait) claimed jobs whose owner process is gone, or whose file got no heartbeat for the ack wait, are
 * moved back to the queue. Several processes may share the directory on one host.
 */
export class DirectorySource implements JobSource {
  readonly name = 'directory';
  private readonly boot = randomBytes(6).toString('hex');
  private stopped = false;
  private kinds: string[] = [];
  private startOptions!: SourceStartOptions;
  /** Queued jobs per kind and lane, in arrival order, with their not-before time. */
  private readonly index = new Map<string, Record<Lane, Map<string, number>>>();
  private readonly arrivals = new Map<string, Waiters>();
  private readonly claimed = new Set<string>();
  private readonly routeFailures = new Map<string, { attempts: number; nextAt: number }>();
  private watcher?: fsSync.FSWatcher;
  private timer?: NodeJS.Timeout;
  private dispatching: Promise<void> | null = null;
  private dispatchAgain = false;
  private lastSweep = 0;

  constructor(private readonly options: DirectorySourceOptions) {}

  private path(...parts: string[]): string {
    return path.join(this.options.dir, ...parts);
  }

  async start(start: SourceStartOptions): Promise<void> {
    this.startOptions = start;
    this.kinds = start.kinds;
    liveBoots.add(this.boot);
    for (const sub of ['pending', 'dispatching', 'processing', 'done', 'dead', ...LANES.map((l) => `queue/${l}`)]) {
      await fs.mkdir(this.path(sub), { recursive: true });
    }
    for (const kind of this.kinds) {
      this.index.set(kind, { high: new Map(), normal: new Map() });
      this.arrivals.set(kind, new Waiters());
    }
    await this.pruneDone();
    await this.sweep();
    await this.scanQueue();
    this.watcher = fsSync.watch(this.path('pending'), () => this.triggerDispatch());
    this.watcher.on('error', (err) => this.options.logger.warn('outbox watcher failed; polling only', { err: err.message }));
    this.timer = setInterval(() => void this.tick(), this.options.pollMs ?? 1000);
    this.triggerDispatch();
    await this.dispatching;
  }

  private async tick(): Promise<void> {
    try {
      this.triggerDispatch();
      await this.scanQueue();
      if (Date.now() - this.lastSweep >= this.options.ackWaitMs) await this.sweep();
    } catch (err) {
      this.options.logger.warn('outbox scan failed', { err: (err as Error).message });
    }
  }

  /** Runs a dispatch pass now, or once more after the running one. */
  private triggerDispatch(): void {
    if (this.stopped) return;
    if (this.dispatching) {
      this.dispatchAgain = true;
      return;
    }
    this.dispatching = (async () => {
      do {
        this.dispatchAgain = false;
        await this.dispatchPending().catch((err) => this.options.logger.warn('dispatch pass failed', { err: (err as Error).message }));
      } while (this.dispatchAgain && !this.stopped);
    })().finally(() => (this.dispatching = null));
  }

  /**
   * Dispatches each pending event once across every source sharing the directory: an event is claimed
   * by renaming it into `dispatching/` under this process's name (only one rename wins), its jobs are
   * written, then the claim is removed. Checking the jobs first and writing them after was a race: a
   * second source could check while the first source's job was already done and acked, and queue it again.
   */
  private async dispatchPending(): Promise<void> {
    for (const name of await jsonFiles(this.path('pending'))) {
      if (this.stopped) return;
      const failure = this.routeFailures.get(name);
      if (failure && failure.nextAt > Date.now()) continue;
      const pending = this.path('pending', name);
      const file = this.path('dispatching', `${name.slice(0, -'.json'.length)}@${process.pid}.${this.boot}.json`);
      let raw: string;
      let persistedAt: Date;
      try {
        await fs.rename(pending, file);
        persistedAt = (await fs.stat(file)).mtime;
        raw = await fs.readFile(file, 'utf8');
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue;
        throw err;
      }
      let event: UploadCompletedEvent;
      try {
        event = parseUploadCompletedEvent(JSON.parse(raw));
      } catch (err) {
        const id = name.replace(/\.json$/, '');
        await this.writeDead(jobName(id, 'dispatch'), { code: 'INVALID_EVENT', reason: (err as Error).message }, 'dispatch', `${id}:dispatch`, 0, raw);
        await fs.rm(file, { force: true });
        continue;
      }
      try {
        // Route every kind first (each records queued / skipped), then enqueue: no job can finish, and
        // make the aggregate status look final, before every kind of the event has a status.
        const routed: Array<{ kind: string; lane: Lane; job: string }> = [];
        for (const kind of this.kinds) {
          const job = jobName(event.eventId, kind);
          if (await this.known(job)) continue;
          const lane = await this.startOptions.route(event, kind);
          if (lane) routed.push({ kind, lane, job });
        }
        for (const { kind, lane, job } of routed) {
          const content: JobFile = { version: 1, kind, lane, event, persistedAt: persistedAt.toISOString(), attempts: 0, notBefore: 0 };
          await writeFileAtomic(this.path('queue', lane, job), JSON.stringify(content), true);
          this.enqueue(kind, lane, job, 0);
        }
        await fs.rm(file, { force: true });
        this.routeFailures.delete(name);
      } catch (err) {
        // Given back, so any source (this one after its backoff) dispatches it again.
        await fs.rename(file, pending).catch(() => undefined);
        const attempts = (failure?.attempts ?? 0) + 1;
        this.routeFailures.set(name, { attempts, nextAt: Date.now() + this.startOptions.backoff(attempts) });
        this.options.logger.warn('dispatch failed; will retry', { eventId: event.eventId, err: (err as Error).message });
      }
    }
  }

  /** Whether the job exists anywhere (queued, claimed, done, dead): dispatch must not create it again. */
  private async known(job: string): Promise<boolean> {
    if (this.claimed.has(job)) return true;
    for (const kind of this.kinds) for (const lane of LANES) if (this.index.get(kind)![lane].has(job)) return true;
    const candidates = [this.path('done', job.replace(/\.json$/, '')), this.path('dead', job), this.path('processing', job), ...LANES.map((l) => this.path('queue', l, job))];
    return (await Promise.all(candidates.map(exists))).some(Boolean);
  }

  private enqueue(kind: string, lane: Lane, job: string, notBefore: number): void {
    const lanes = this.index.get(kind);
    if (!lanes) return;
    lanes[lane].set(job, notBefore);
    this.arrivals.get(kind)!.wakeAll();
  }

  /** Adds queue files this process does not know yet (written by another process, or at start). */
  private async scanQueue(): Promise<void> {
    for (const lane of LANES) {
      for (const name of await jsonFiles(this.path('queue', lane))) {
        const kind = name.slice(name.lastIndexOf('~') + 1, -'.json'.length);
        const lanes = this.index.get(kind);
        if (!lanes || lanes[lane].has(name) || this.claimed.has(name)) continue;
        const job = await this.readJob(this.path('queue', lane, name));
        if (job) lanes[lane].set(name, job.notBefore);
      }
    }
    for (const w of this.arrivals.values()) w.wakeAll();
  }

  private async readJob(file: string): Promise<JobFile | null> {
    try {
      return JSON.parse(await fs.readFile(file, 'utf8')) as JobFile;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return null;
      this.options.logger.error('unreadable job file moved to dead/', { file, err: (err as Error).message });
      await fs.rename(file, this.path('dead', `${path.basename(file)}.corrupt`)).catch(() => undefined);
      return null;
    }
  }

  /**
   * Gives events claimed for dispatch by a process that is gone back to `pending/`, and moves claimed
   * jobs whose owner is gone (or silent for the ack wait) back to the queue.
   */
  private async sweep(): Promise<void> {
    this.lastSweep = Date.now();
    for (const name of await jsonFiles(this.path('dispatching'))) {
      const at = name.lastIndexOf('@');
      const [pid, boot] = name.slice(at + 1, -'.json'.length).split('.');
      if (at < 0 || this.ownerAlive({ pid: Number(pid), boot: boot ?? '' })) continue;
      await fs.rename(this.path('dispatching', name), this.path('pending', `${name.slice(0, at)}.json`)).catch((err) => {
        if (!isErrno(err, 'ENOENT')) throw err;
      });
      this.options.logger.info('recovered an event whose dispatch was interrupted', { event: name.slice(0, at) });
    }
    for (const name of await jsonFiles(this.path('processing'))) {
      if (this.claimed.has(name)) continue;
      const file = this.path('processing', name);
      const job = await this.readJob(file);
      if (!job) continue;
      const mtime = (await fs.stat(file).catch(() => null))?.mtimeMs ?? 0;
      // A previous process with our PID (PID 1 in a container) has another boot id: not alive.
      if (job.owner && this.ownerAlive(job.owner) && Date.now() - mtime < this.options.ackWaitMs) continue;
      if (await exists(this.path('done', name.replace(/\.json$/, '')))) {
        await fs.rm(file, { force: true });
        continue;
      }
      try {
        await fs.rename(file, this.path('queue', job.lane, name));
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue;
        throw err;
      }
      this.options.logger.info('recovered abandoned job', { job: name, attempts: job.attempts });
      this.enqueue(job.kind, job.lane, name, job.notBefore);
    }
  }

  private ownerAlive(owner: { pid: number; boot: string }): boolean {
    if (owner.pid === process.pid) return liveBoots.has(owner.boot);
    try {
      process.kill(owner.pid, 0);
      return true;
    } catch (err) {
      return isErrno(err, 'EPERM');
    }
  }

  async next(kind: string): Promise<Job | null> {
    const lanes = this.index.get(kind);
    if (!lanes) throw new Error(`no queue for processor kind "${kind}"`);
    for (;;) {
      if (this.stopped) return null;
      const now = Date.now();
      let earliest = Infinity;
      for (const lane of LANES) {
        for (const [name, notBefore] of lanes[lane]) {
          if (notBefore > now) {
            earliest = Math.min(earliest, notBefore);
            continue;
          }
          lanes[lane].delete(name);
          const job = await this.claim(lane, name);
          if (job) return job;
        }
      }
      await this.arrivals.get(kind)!.wait(Math.min(earliest - now, this.options.pollMs ?? 1000));
    }
  }

  private async claim(lane: Lane, name: string): Promise<Job | null> {
    const file = this.path('processing', name);
    try {
      await fs.rename(this.path('queue', lane, name), file);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return null; // another process took it
      throw err;
    }
    const content = await this.readJob(file);
    if (!content) return null;
    content.attempts += 1;
    content.owner = { pid: process.pid, boot: this.boot };
    await writeFileAtomic(file, JSON.stringify(content), false);
    this.claimed.add(name);
    return this.toJob(name, content);
  }

  private toJob(name: string, content: JobFile): Job {
    const file = this.path('processing', name);
    const { kind, lane, event } = content;
    const release = () => this.claimed.delete(name);
    return {
      id: `${event.eventId}:${kind}`,
      kind,
      lane,
      event,
      deliveryCount: content.attempts,
      persistedAt: new Date(content.persistedAt),
      retried: content.retried === true,
      working: async () => {
        const now = new Date();
        await fs.utimes(file, now, now);
      },
      ack: async () => {
        await fs.writeFile(this.path('done', name.replace(/\.json$/, '')), '');
        await fs.rm(file, { force: true });
        release();
      },
      retry: async (delayMs) => {
        const next: JobFile = { ...content, notBefore: Date.now() + delayMs, owner: undefined };
        await writeFileAtomic(file, JSON.stringify(next), false);
        await fs.rename(file, this.path('queue', lane, name));
        release();
        this.enqueue(kind, lane, name, next.notBefore);
      },
      deadLetter: async (info) => {
        await this.writeDead(name, info, kind, `${event.eventId}:${kind}`, content.attempts, event, lane);
        await fs.rm(file, { force: true });
        release();
      },
    };
  }

  private async writeDead(name: string, info: DeadLetterInfo, kind: string, jobId: string, attempts: number, event: UploadCompletedEvent | string, lane?: Lane): Promise<void> {
    const record: DeadLetterRecord = { version: 1, jobId, kind, lane, attempts, failedAt: new Date().toISOString(), event, ...info };
    await writeFileAtomic(this.path('dead', name), JSON.stringify(record, null, 2), true);
  }

  private async pruneDone(): Promise<void> {
    const cutoff = Date.now() - (this.options.doneRetentionMs ?? 7 * 86_400_000);
    const dir = this.path('done');
    for (const name of await fs.readdir(dir)) {
      const st = await fs.stat(path.join(dir, name)).catch(() => null);
      if (st && st.mtimeMs < cutoff) await fs.rm(path.join(dir, name), { force: true });
    }
    await syncDir(dir).catch(() => undefined);
  }

  /** One process runs every kind of this outbox. */
  async dispatchingKinds(): Promise<string[]> {
    return [...this.kinds];
  }

  async pending(): Promise<PendingCount[]> {
    const counts: PendingCount[] = [];
    for (const [kind, lanes] of this.index) for (const lane of LANES) counts.push({ kind, lane, count: lanes[lane].size });
    return counts;
  }

  ready(): boolean {
    return !this.stopped;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    clearInterval(this.timer);
    for (const w of this.arrivals.values()) w.wakeAll();
    await this.dispatching;
    liveBoots.delete(this.boot);
  }
}
