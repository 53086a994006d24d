import fs from 'node:fs/promises';
import path from 'node:path';
import { LANES, type DeadLetterRecord, type Lane } from '../job-source.js';
import { laneOf, toDeadLetter, type DeadLetter, type DeadLetterPage, type QueueAdmin, type QueueDepth, type RequeueOutcome } from '../queue-admin.js';
import { isErrno, jsonFiles, writeFileAtomic } from './fsutil.js';

/** `dead/<id>.retried`: the operator retried the record of that id that failed at `failedAt`. */
interface RetryMark {
  failedAt: string;
  retriedAt: string;
}

/** `<eventId>~<kind>`: the file name of the job (event ids and kinds never contain `~` or `/`). */
const ID = /^[A-Za-z0-9._-]{1,200}~[a-z0-9][a-z0-9-]{0,62}$/;

/** A record file's place in the list: written once when the job failed, so its mtime is when. */
interface Entry {
  at: number;
  id: string;
}

/** Cursor of a page: the last item's mtime and id. */
const encodeCursor = (e: Entry) => Buffer.from(JSON.stringify([e.at, e.id])).toString('base64url');
function decodeCursor(cursor: string): Entry | null {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    return Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string' ? { at: value[0], id: value[1] } : null;
  } catch {
    return null;
  }
}
/** Newest first; ties by id, descending. */
const newestFirst = (a: Entry, b: Entry) => b.at - a.at || b.id.localeCompare(a.id);

/**
 * {@link QueueAdmin} over the embedded directory queue (`DATA_DIR/events`, see {@link DirectorySource}):
 * depth counts `queue/<lane>/` and `processing/`; dead letters are the `dead/<eventId>~<kind>.json`
 * records, newest first by file time (a page stats every record and reads only its own); a retry
 * writes the job into `queue/<lane>/` (attempts 0, marked `retried`, where every source sharing the
 * directory finds it on its next scan) and then marks the record retried in `dead/<id>.retried`
 * (naming the failure it retried). Retries of one dead letter are serialised in this process.
 */
export class DirectoryQueueAdmin implements QueueAdmin {
  readonly name = 'directory';
  private readonly retrying = new Map<string, Promise<RequeueOutcome>>();

  /** `dir`: the outbox root; `kinds`: processor kinds reported even with empty queues. */
  constructor(private readonly dir: string, private readonly kinds: readonly string[] = []) {}

  private path(...parts: string[]): string {
    return path.join(this.dir, ...parts);
  }

  async depth(): Promise<QueueDepth[]> {
    const counts = new Map<string, QueueDepth>();
    const entry = (kind: string, lane: Lane) => {
      const key = `${kind}\u0000${lane}`;
      let d = counts.get(key);
      if (!d) counts.set(key, (d = { kind, lane, waiting: 0, inFlight: 0 }));
      return d;
    };
    for (const kind of this.kinds) for (const lane of LANES) entry(kind, lane);
    const kindOf = (name: string) => name.slice(name.lastIndexOf('~') + 1, -'.json'.length);
    for (const lane of LANES) for (const name of await jsonFiles(this.path('queue', lane))) entry(kindOf(name), lane).waiting++;
    for (const name of await jsonFiles(this.path('processing'))) {
      const job = await this.readJson<{ lane?: Lane }>(this.path('processing', name));
      if (job) entry(kindOf(name), job.lane === 'high' ? 'high' : 'normal').inFlight++;
    }
    return [...counts.values()].sort((a, b) => a.kind.localeCompare(b.kind) || LANES.indexOf(a.lane) - LANES.indexOf(b.lane));
  }

  async deadLetters({ cursor, limit }: { cursor?: string; limit: number }): Promise<DeadLetterPage> {
    // Ordered by the files' mtimes (one stat each); only the page's records are read.
    const names = await jsonFiles(this.path('dead'));
    const entries = (await Promise.all(names.map(async (name): Promise<Entry | null> => {
      const st = await fs.stat(this.path('dead', name)).catch(() => null);
      return st && { at: st.mtimeMs, id: name.slice(0, -'.json'.length) };
    }))).filter((e): e is Entry => e !== null).sort(newestFirst);
    const after = cursor ? decodeCursor(cursor) : null;
    let start = after ? entries.findIndex((e) => newestFirst(e, after) > 0) : 0;
    if (start < 0) start = entries.length;
    const items: DeadLetter[] = [];
    let last: Entry | null = null;
    let i = start;
    for (; i < entries.length && items.length < limit; i++) {
      const dead = await this.deadLetter(entries[i]!.id);
      if (!dead) continue; // removed or unreadable since the listing
      items.push(dead);
      last = entries[i]!;
    }
    return { items, nextCursor: i < entries.length && last ? encodeCursor(last) : null };
  }

  async deadLetter(id: string): Promise<DeadLetter | null> {
    if (!ID.test(id)) return null;
    const record = await this.readJson<DeadLetterRecord>(this.path('dead', `${id}.json`));
    return record ? toDeadLetter(id, record, await this.retriedAt(id, record)) : null;
  }

  /** The retry mark of this very record (a mark of an earlier failure of the same job does not count). */
  private async retriedAt(id: string, record: DeadLetterRecord): Promise<string | null> {
    const mark = await this.readJson<RetryMark>(this.path('dead', `${id}.retried`));
    return mark && mark.failedAt === record.failedAt ? mark.retriedAt : null;
  }

  requeue(id: string): Promise<RequeueOutcome> {
    const running = this.retrying.get(id);
    if (running) return running.then((outcome) => (outcome === 'retried' ? 'already-retried' : outcome));
    const work = this.requeueOnce(id).finally(() => this.retrying.delete(id));
    this.retrying.set(id, work);
    return work;
  }

  private async requeueOnce(id: string): Promise<RequeueOutcome> {
    if (!ID.test(id)) return 'not-found';
    const file = this.path('dead', `${id}.json`);
    const record = await this.readJson<DeadLetterRecord>(file);
    if (!record) return 'not-found';
    if (await this.retriedAt(id, record)) return 'already-retried';
    if (typeof record.event === 'string' || record.kind === 'dispatch') return 'not-retryable';
    const lane = laneOf(record);
    const now = new Date().toISOString();
    // The job file as dispatch writes it (see DirectorySource): a fresh job with no attempts spent.
    const job = { version: 1, kind: record.kind, lane, event: record.event, persistedAt: now, attempts: 0, notBefore: 0, retried: true };
    await fs.mkdir(this.path('queue', lane), { recursive: true });
    await writeFileAtomic(this.path('queue', lane, `${id}.json`), JSON.stringify(job), true);
    // Queued first, marked second: a crash in between leaves it retryable (at least once, never lost).
    // The mark is a file of its own, so a fast new failure rewriting the record is never overwritten.
    const mark: RetryMark = { failedAt: record.failedAt, retriedAt: now };
    await writeFileAtomic(this.path('dead', `${id}.retried`), JSON.stringify(mark), true);
    return 'retried';
  }

  private async readJson<T>(file: string): Promise<T | null> {
    try {
      return JSON.parse(await fs.readFile(file, 'utf8')) as T;
    } catch (err) {
      if (isErrno(err, 'ENOENT') || err instanceof SyntaxError) return null;
      throw err;
    }
  }
}
