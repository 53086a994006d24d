import { describe, expect, it } from 'vitest';
import { SlabPool } from './slabs.js';

describe('SlabPool', () => {
  it('reuses returned slabs, whole even when a view of one comes back, and keeps at most `keep` idle', () => {
    const pool = new SlabPool(1024, 2);
    const a = pool.take();
    const b = pool.take();
    const c = pool.take();
    expect(a.length).toBe(1024);
    pool.give(a.subarray(0, 10));
    pool.give(b);
    pool.give(c);
    expect(pool.idle).toBe(2);
    const again = pool.take();
    expect(again.length).toBe(1024);
    expect([a.buffer, b.buffer]).toContain(again.buffer);
  });

  it('ignores buffers that are not its slabs', () => {
    const pool = new SlabPool(1024, 8);
    pool.give(Buffer.alloc(1024 * 2).subarray(0, 1024));
    pool.give(Buffer.from('pooled small buffers share one big ArrayBuffer'));
    expect(pool.idle).toBe(0);
  });
});
