import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { applyClaim, applyPlan, applyUpdate, type ProcessingStatus, type StatusClaim, type StatusListener, type StatusStore, type StatusUpdate } from './types.js';

/**
 * Compare-and-set: replace the value only if it is still what the caller read, then publish the new
 * value on the key's channel, all in one atomic script. Returns `[1]` on success, `[0, current]` else.
 */
const CAS_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if (cur or '') ~= ARGV[1] then return {0, cur or ''} end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('PUBLISH', KEYS[1], ARGV[2])
return {1, ''}
`;

type CasRedis = Redis & {
  statusCas(key: string, expected: string, next: string, ttlMs: number): Promise<[number, string]>;
};

export interface RedisStatusStoreOptions {
  /** Key prefix (`REDIS_PREFIX`, default `tus:`); keys are `<prefix>processing:<uploadId>`. */
  prefix?: string;
  /** Status records expire this long after their last change (`PROCESSOR_STATUS_TTL`, default 30d). */
  ttlMs?: number;
  logger?: Logger;
  clock?: () => Date;
}

/**
 * Distributed {@link StatusStore}: one JSON string per upload in Redis, changed with an atomic
 * compare-and-set script that also PUBLISHes the new status on a channel named like the key, so any
 * server node can stream changes (`GET /api/uploads/:id/events`). One extra connection is opened on the
 * first `subscribe` and shared by all subscriptions.
 */
export class RedisStatusStore implements StatusStore {
  private readonly redis: CasRedis;
  private subscriber: Redis | null = null;
  private readonly channels = new Map<string, { listeners: Set<StatusListener>; ready: Promise<unknown> }>();
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly clock: () => Date;

  constructor(urlOrClient: string | Redis, private readonly options: RedisStatusStoreOptions = {}) {
    const redis = typeof urlOrClient === 'string' ? new Redis(urlOrClient, { maxRetriesPerRequest: 3 }) : urlOrClient;
    redis.on('error', (err: Error) => options.logger?.warn('redis status store error', { err: err.message }));
    redis.defineCommand('statusCas', { numberOfKeys: 1, lua: CAS_SCRIPT });
    this.redis = redis as CasRedis;
    this.prefix = `${options.prefix ?? 'tus:'}processing:`;
    this.ttlMs = options.ttlMs ?? 30 * 86_400_000;
    this.clock = options.clock ?? (() => new Date());
  }

  private key(uploadId: string): string {
    return `${this.prefix}${uploadId}`;
  }

  async get(uploadId: string): Promise<ProcessingStatus | null> {
    const raw = await this.redis.get(this.key(uploadId));
    return raw ? (JSON.parse(raw) as ProcessingStatus) : null;
  }

  async update(update: StatusUpdate): Promise<ProcessingStatus> {
    return (await this.change(update.uploadId, (current) => applyUpdate(current, update, this.clock())))!;
  }

  plan(uploadId: string, eventId: string, kinds: readonly string[]): Promise<ProcessingStatus | null> {
    return this.change(uploadId, (current) => applyPlan(current, uploadId, eventId, kinds, this.clock()));
  }

  async claim(claim: StatusClaim): Promise<string[]> {
    let busy: string[] = [];
    await this.change(claim.uploadId, (current) => {
      const applied = applyClaim(current, claim, this.clock());
      busy = applied.busy;
      return applied.next;
    });
    return busy;
  }

  /** Applies `merge` with compare-and-set, reading again when another writer came first. */
  private async change(uploadId: string, merge: (current: ProcessingStatus | null) => ProcessingStatus | null): Promise<ProcessingStatus | null> {
    const key = this.key(uploadId);
    let raw = (await this.redis.get(key)) ?? '';
    for (let attempt = 0; attempt < 50; attempt++) {
      const current = raw ? (JSON.parse(raw) as ProcessingStatus) : null;
      const next = merge(current);
      if (!next) return current;
      const [ok, actual] = await this.redis.statusCas(key, raw, JSON.stringify(next), this.ttlMs);
      if (ok === 1) return next;
      raw = actual;
    }
    throw new Error(`status of ${uploadId} changed 50 times during one update`);
  }

  async subscribe(uploadId: string, listener: StatusListener): Promise<() => Promise<void>> {
    const channel = this.key(uploadId);
    if (!this.subscriber) {
      this.subscriber = this.redis.duplicate();
      this.subscriber.on('error', (err: Error) => this.options.logger?.warn('redis status subscriber error', { err: err.message }));
      this.subscriber.on('message', (ch: string, message: string) => {
        let status: ProcessingStatus;
        try {
          status = JSON.parse(message) as ProcessingStatus;
        } catch {
          return;
        }
        for (const l of this.channels.get(ch)?.listeners ?? []) {
          try {
            l(status);
          } catch {
            /* a listener's failure is its own */
          }
        }
      });
    }
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = { listeners: new Set(), ready: this.subscriber.subscribe(channel) };
      this.channels.set(channel, entry);
    }
    const { listeners } = entry;
    listeners.add(listener);
    await entry.ready;
    return async () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.channels.get(channel) === entry) {
        this.channels.delete(channel);
        await this.subscriber?.unsubscribe(channel).catch(() => undefined);
      }
    };
  }

  async remove(uploadId: string): Promise<void> {
    await this.redis.del(this.key(uploadId));
  }

  /** Keys carry their TTL (refreshed on every change): Redis drops them by itself. */
  async prune(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {
    this.channels.clear();
    await Promise.allSettled([this.redis.quit(), this.subscriber?.quit()]);
  }
}
