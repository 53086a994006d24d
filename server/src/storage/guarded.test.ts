import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { CircuitBreaker, silentLogger } from '@tus-edge/processors';
import { errorResponse } from '../http/respond.js';
import { Metrics } from '../ops/metrics.js';
import { FileStorage } from './file-storage.js';
import { GuardedStorage } from './guarded.js';
import { StorageUnavailableError } from './types.js';

/** A real file storage whose `offset` answers like a store that is down, while `down` is set. */
class FlakyStorage extends FileStorage {
  down = false;
  calls = 0;
  override async offset(id: string) {
    this.calls++;
    if (this.down) throw new StorageUnavailableError(new Error('503 ServiceUnavailable'));
    return super.offset(id);
  }
}

describe('GuardedStorage', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('passes calls through while the store is well, and keeps optional capabilities as they are', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'guarded-'));
    const inner = new FileStorage({ directory: dir, fsync: false });
    const storage = new GuardedStorage(inner, new CircuitBreaker({ service: 's3', failureThreshold: 2, windowMs: 10_000, openMs: 5000 }));
    await storage.create('a', { length: 3 });
    await storage.write('a', 0, Readable.from([Buffer.from('abc')]), { limit: 3 });
    expect((await storage.offset('a'))?.bytes).toBe(3);
    expect(typeof storage.truncate).toBe(typeof inner.truncate);
    expect(storage.location('a')).toEqual(inner.location('a'));
  });

  it('after N outages answers at once with 503 STORAGE_UNAVAILABLE and the time left as Retry-After', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'guarded-'));
    const inner = new FlakyStorage({ directory: dir, fsync: false });
    const breaker = new CircuitBreaker({ service: 's3', failureThreshold: 2, windowMs: 10_000, openMs: 5000 });
    const storage = new GuardedStorage(inner, breaker);
    await storage.create('a', { length: 3 });
    inner.down = true;
    for (let i = 0; i < 2; i++) await expect(storage.offset('a')).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(breaker.state()).toBe('open');
    const before = inner.calls;
    const refused = await storage.offset('a').catch((e: unknown) => e);
    expect(inner.calls).toBe(before); // the store was not asked
    expect(refused).toBeInstanceOf(StorageUnavailableError);
    const res = errorResponse(refused, new Metrics(), silentLogger);
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBe(5);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('STORAGE_UNAVAILABLE');
  });

  it('a missing upload is not an outage', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'guarded-'));
    const breaker = new CircuitBreaker({ service: 's3', failureThreshold: 1, windowMs: 10_000, openMs: 5000 });
    const storage = new GuardedStorage(new FileStorage({ directory: dir, fsync: false }), breaker);
    await storage.read('missing').catch(() => undefined);
    await storage.remove('missing').catch(() => undefined);
    expect(breaker.state()).toBe('closed');
  });
});
