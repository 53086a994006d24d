import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { JsonFileKvStore } from '../records/json-file-kv.js';

/** What an owner has: stored bytes (finished and reserved for unfinished uploads) and unfinished uploads. */
export interface Usage {
  bytes: number;
  uploads: number;
}

/** Limits for {@link UsageStore.add}; 0 = unlimited. */
export type UsageLimits = Usage;

/**
 * Per-owner usage counters. `add` is atomic: positive deltas are applied only if the result stays
 * within `limits` (then `ok` is true); negative deltas are always applied and never go below zero.
 */
export interface UsageStore {
  add(owner: string, delta: Usage, limits?: UsageLimits): Promise<{ ok: boolean; usage: Usage }>;
  get(owner: string): Promise<Usage>;
}

/** One string per (tenant, owner): the quota and rate-limit key. */
export function ownerKey(owner: string, tenant: string | undefined): string {
  return `o:${encodeURIComponent(tenant ?? '')}:${encodeURIComponent(owner)}`;
}

const ZERO: Usage = { bytes: 0, uploads: 0 };

/** The usage after `delta`, or undefined when a positive delta would pass a limit. */
export function applyDelta(current: Usage, delta: Usage, limits?: UsageLimits): Usage | undefined {
  const over = (now: number, d: number, limit: number) => d > 0 && limit > 0 && now + d > limit;
  if (limits && (over(current.bytes, delta.bytes, limits.bytes) || over(current.uploads, delta.uploads, limits.uploads))) return undefined;
  return { bytes: Math.max(0, current.bytes + delta.bytes), uploads: Math.max(0, current.uploads + delta.uploads) };
}

/** Embedded: one JSON file per owner under DATA_DIR, updates serialised in this process (one node). */
export class FileUsageStore implements UsageStore {
  private readonly kv: JsonFileKvStore<Usage>;
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(directory: string) {
    this.kv = new JsonFileKvStore<Usage>(directory);
  }

  private key(owner: string): string {
    return createHash('sha256').update(owner).digest('base64url');
  }

  async get(owner: string): Promise<Usage> {
    return (await this.kv.get(this.key(owner))) ?? { ...ZERO };
  }

  add(owner: string, delta: Usage, limits?: UsageLimits): Promise<{ ok: boolean; usage: Usage }> {
    const key = this.key(owner);
    const run = async () => {
      const current = (await this.kv.get(key)) ?? { ...ZERO };
      const next = applyDelta(current, delta, limits);
      if (!next) return { ok: false, usage: current };
      await this.kv.set(key, next);
      return { ok: true, usage: next };
    };
    const previous = this.queues.get(key) ?? Promise.resolve();
    const result = previous.then(run, run);
    const settled = result.catch(() => undefined);
    this.queues.set(key, settled);
    void settled.then(() => this.queues.get(key) === settled && this.queues.delete(key));
    return result;
  }
}

/** Check and add in one step on the Redis server, so two nodes can never both take the last byte. */
const ADD_SCRIPT = `
local b = tonumber(redis.call('HGET', KEYS[1], 'bytes') or '0')
local u = tonumber(redis.call('HGET', KEYS[1], 'uploads') or '0')
local db, du, lb, lu = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if (db > 0 and lb > 0 and b + db > lb) or (du > 0 and lu > 0 and u + du > lu) then return {0, tostring(b), tostring(u)} end
b = math.max(0, b + db)
u = math.max(0, u + du)
redis.call('HSET', KEYS[1], 'bytes', string.format('%.0f', b), 'uploads', string.format('%.0f', u))
return {1, string.format('%.0f', b), string.format('%.0f', u)}
`;

/** Distributed: one hash per owner in Redis, shared by every node. */
export class RedisUsageStore implements UsageStore {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  private key(owner: string): string {
    return `${this.prefix}usage:${owner}`;
  }

  async get(owner: string): Promise<Usage> {
    const h = await this.redis.hgetall(this.key(owner));
    return { bytes: Number(h.bytes ?? 0), uploads: Number(h.uploads ?? 0) };
  }

  async add(owner: string, delta: Usage, limits?: UsageLimits): Promise<{ ok: boolean; usage: Usage }> {
    const [ok, bytes, uploads] = (await this.redis.eval(
      ADD_SCRIPT, 1, this.key(owner), delta.bytes, delta.uploads, limits?.bytes ?? 0, limits?.uploads ?? 0,
    )) as [number, string, string];
    return { ok: ok === 1, usage: { bytes: Number(bytes), uploads: Number(uploads) } };
  }
}
