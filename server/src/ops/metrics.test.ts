import http from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisLocker } from '../locking/redis-locker.js';
import { startRedis, type RedisHandle } from '@tus-edge/testkit';
import { startTestServer, type TestServer } from '../../test/harness.js';
import { Metrics, sizeClass } from './metrics.js';

const value = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('sizeClass', () => {
  it('puts sizes into five bounded classes', () => {
    expect(sizeClass(0)).toBe('lt_1m');
    expect(sizeClass(1024 * 1024 - 1)).toBe('lt_1m');
    expect(sizeClass(1024 * 1024)).toBe('1m_16m');
    expect(sizeClass(100 * 1024 * 1024)).toBe('16m_256m');
    expect(sizeClass(1024 ** 3)).toBe('256m_4g');
    expect(sizeClass(5 * 1024 ** 3)).toBe('ge_4g');
  });
});

describe('upload metrics on a running server', () => {
  let server: TestServer;
  let storageDown = false;
  beforeAll(async () => {
    // The readiness check of the storage can be made to fail (a test override of the real check list).
    server = await startTestServer({}, {
      checks: {
        storage: async () => {
          if (storageDown) throw new Error('storage unreachable');
        },
      },
    });
  });
  afterAll(() => server.close());
  const scrape = async () => (await fetch(`${server.url}/metrics`)).text();

  it('counts announced bytes in flight while a PATCH is received, and the upload duration by size class once finished', async () => {
    const create = await fetch(server.tusUrl, { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '5' } });
    const location = new URL(create.headers.get('location')!, server.url);
    const req = http.request(location, {
      method: 'PATCH',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream', 'Content-Length': '5' },
    });
    const answered = new Promise<number>((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
    });
    req.write('ab');
    let during: number | undefined;
    for (let i = 0; i < 50 && during !== 5; i++) {
      during = value(await scrape(), 'tus_bytes_in_flight');
      if (during !== 5) await new Promise((r) => setTimeout(r, 20));
    }
    expect(during).toBe(5);
    req.end('cde');
    expect(await answered).toBe(204);

    const after = await scrape();
    expect(value(after, 'tus_bytes_in_flight')).toBe(0);
    expect(value(after, 'tus_upload_duration_seconds_count{size_class="lt_1m"}')).toBe(1);
  });

  it('reports readiness as /readyz answers it', async () => {
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect(value(await scrape(), 'tus_ready')).toBe(1);
    storageDown = true;
    try {
      expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
      expect(value(await scrape(), 'tus_ready')).toBe(0);
    } finally {
      storageDown = false;
    }
    expect(value(await scrape(), 'tus_ready')).toBe(1);
  });

  it('reports the staging file system at each scrape', async () => {
    const text = await scrape();
    const free = value(text, 'tus_staging_free_bytes')!;
    const size = value(text, 'tus_staging_size_bytes')!;
    expect(free).toBeGreaterThan(0);
    expect(size).toBeGreaterThanOrEqual(free);
  });
});

describe('tus_lock_handovers_total', () => {
  let redis: RedisHandle;
  const clients: Redis[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await redis?.stop();
  });

  it('counts one handover when a request on another node takes a held lock', async () => {
    const metrics = new Metrics();
    const node = (onHandover?: () => void) => {
      const [commands, subscriber] = [new Redis(redis.url), new Redis(redis.url)];
      clients.push(commands);
      return new RedisLocker({ redis: commands, subscriber, prefix: 'h:', ttlMs: 2000, acquireTimeoutMs: 3000, onHandover });
    };
    const [holder, other] = [node(() => metrics.lockHandovers.inc()), node()];
    const held = holder.newLock('u1');
    await held.lock(new AbortController().signal, () => void setTimeout(() => void held.unlock(), 50));
    const taken = other.newLock('u1');
    await taken.lock(new AbortController().signal, () => undefined);
    await taken.unlock();
    const text = await metrics.registry.metrics();
    expect(value(text, 'tus_lock_handovers_total')).toBe(1);
    await holder.close();
    await other.close();
  });
});
